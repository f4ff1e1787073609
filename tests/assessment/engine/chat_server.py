"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format with
scripted answers: the LLM judge's tests talk to it over TCP, with no in-process mocking."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
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


class ChatServer:
    """``with ChatServer() as server:`` then ``server.script(...)`` and ``server.base_url``.
    When the script runs out, the last reply repeats. ``requests`` records (path, headers, json)."""

    def __init__(self) -> None:
        self.replies: deque[Scripted] = deque()
        self.last: Scripted | None = None
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with server.lock:
                    server.requests.append((self.path, dict(self.headers), json.loads(body or b"null")))
                    reply = server.replies.popleft() if server.replies else server.last
                    server.last = reply
                if reply is None:
                    reply = Scripted(status=500, raw=b"no script")
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

    def script(self, *replies: Scripted) -> None:
        with self.lock:
            self.replies.extend(replies)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
