"""A real HTTPS git server on 127.0.0.1 for the repository tests (git's "dumb" HTTP protocol:
static files of a bare repository), and helpers that make small repositories with git itself.

Its certificate names ``git.test``, a name no DNS knows: a clone succeeds only because the
fetcher pins the connection to the address its own (injected) resolver vetted.
"""

from __future__ import annotations

import functools
import os
import ssl
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from tests.net.local_server import make_tls_contexts

HOST = "git.test"
GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "HOME": "/nonexistent",
}


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def make_repository(
    path: Path, commits: list[dict[str, str | bytes]], *, symlinks: dict[str, str] | None = None
) -> list[str]:
    """A repository at ``path`` with one commit per mapping of ``{file: content}``; returns the
    commit ids, oldest first. ``symlinks`` (``{link: target}``) are added in the last commit."""
    path.mkdir(parents=True)
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    ids = []
    for number, files in enumerate(commits, 1):
        for name, content in files.items():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        if number == len(commits):
            for link, points_to in (symlinks or {}).items():
                os.symlink(points_to, path / link)
        git("add", "--all", cwd=path)
        git("commit", "--quiet", "-m", f"commit {number}", cwd=path)
        ids.append(git("rev-parse", "HEAD", cwd=path))
    return ids


class GitHttpsServer:
    """Serves bare repositories under ``root`` over HTTPS (``https://git.test:<port>/<name>.git``).

    ``stall`` makes every request hang until the test ends; ``redirect_to`` answers every
    request with a redirect there. ``ca_file`` is the CA git must trust.
    """

    def __init__(self, root: Path, tls_dir: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.stall = False
        self.redirect_to: str | None = None
        self.release = threading.Event()
        server_context, client_context = make_tls_contexts(tls_dir, HOST)
        self.ca_file = tls_dir / "ca.pem"
        self.ca_file.write_text(
            "".join(ssl.DER_cert_to_PEM_cert(der) for der in client_context.get_ca_certs(binary_form=True))
        )
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                if outer.stall:
                    outer.release.wait(10)
                    return
                if outer.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", outer.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass

        self._httpd = Server(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self._httpd.socket = server_context.wrap_socket(
            self._httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def publish(self, source: Path, name: str = "project") -> str:
        """Serve a bare copy of the repository at ``source``; returns its https URL."""
        bare = self.root / f"{name}.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(source), str(bare)], env=GIT_ENV, check=True)
        git("update-server-info", cwd=bare)
        return self.url(f"/{name}.git")

    def url(self, path: str, host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
