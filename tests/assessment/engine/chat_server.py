"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format with
scripted answers: the LLM judge's tests talk to it over TCP, with no in-process mocking.

The judge asks about one criterion per request; the server reads which one from the request's
system message (the JSON after ``Criterion to judge (JSON):``) and answers each criterion from its
own place in the script, so a script describes the answers every criterion gets."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Scripted:
    """One scripted reply: HTTP status, headers, and either a chat message content (wrapped in a
    chat-completion object) or a raw body; ``delay`` seconds before answering."""

    content: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    delay: float = 0.0


def completion(content: str, model: str = "test-model") -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


CRITERION = re.compile(r"Criterion to judge \(JSON\):\s*(\{.*\})\s*$", re.DOTALL)


def criterion_of(body: Any) -> str | None:
    """The id of the one criterion a judge request asks about (None when it names none)."""
    try:
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        match = CRITERION.search(system)
        return json.loads(match.group(1))["id"] if match else None
    except (KeyError, TypeError, StopIteration, ValueError):
        return None


class ChatServer:
    """``with ChatServer() as server:`` then ``server.script(...)`` and ``server.base_url``.

    ``script(*replies)`` is played to every criterion on its own: a criterion's first request gets
    the first reply, its second the second, and so on; when the script runs out, the last reply
    repeats. ``script(*replies, criterion=id)`` gives that criterion a script of its own instead.
    ``requests`` records (path, headers, json) of every request in arrival order."""

    def __init__(self) -> None:
        self.scripts: dict[str | None, list[Scripted]] = {None: []}
        self.served: dict[str | None, int] = {}
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                parsed = json.loads(body or b"null")
                criterion = criterion_of(parsed)
                with server.lock:
                    server.requests.append((self.path, dict(self.headers), parsed))
                    replies = server.scripts.get(criterion) or server.scripts[None]
                    count = server.served.get(criterion, 0)
                    server.served[criterion] = count + 1
                    reply = replies[min(count, len(replies) - 1)] if replies else Scripted(status=500, raw=b"no script")
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.raw if reply.raw is not None else completion(reply.content or "")
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Scripted, criterion: str | None = None) -> None:
        with self.lock:
            self.scripts.setdefault(criterion, []).extend(replies)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
