"""A real HTTP(S) server on 127.0.0.1 for the fetcher tests: no mocking of the client side.

Each test registers routes (``path -> handler``); the server records every request it received,
and the SNI names TLS clients sent. Slow handlers wait on :attr:`LocalServer.release`, which the
fixture sets at teardown so no thread outlives the test for long.
"""

from __future__ import annotations

import datetime
import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 (HTTPS when given a server TLS context)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Received] = []
        self.sni: list[str | None] = []
        self.release = threading.Event()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path.split("?")[0])
                try:
                    (route or respond(404, b"not found"))(self)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client gave up, as the caps tell it to

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # refused TLS handshakes and aborted clients are expected here

        self._httpd = Server(("127.0.0.1", 0), RequestHandler)
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.scheme = "https" if tls is not None else "http"
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


# --- route handlers ---------------------------------------------------------------------------


def respond(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)

    return handle


def respond_json(document: object, headers: dict[str, str] | None = None) -> Handler:
    return respond(200, json.dumps(document).encode(), {"Content-Type": "application/json", **(headers or {})})


def redirect(location: str, status: int = 302) -> Handler:
    return respond(status, b"", {"Location": location})


def gzipped(body: bytes) -> Handler:
    return respond(200, gzip.compress(body), {"Content-Encoding": "gzip"})


def endless(server: LocalServer, chunk: bytes = b"x" * 65536) -> Handler:
    """200 with no Content-Length, then bytes until the client hangs up."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.end_headers()
        while not server.release.is_set():
            request.wfile.write(chunk)

    return handle


def slow(server: LocalServer, seconds: float) -> Handler:
    """Answers only after ``seconds`` (or when the test ends)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        server.release.wait(seconds)
        respond(200, b"late")(request)

    return handle


def drip(server: LocalServer, interval: float = 0.05) -> Handler:
    """Headers at once, then one byte per ``interval`` of a body that never completes."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        while not server.release.is_set():
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(interval)

    return handle


def echo_host() -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        respond(200, (request.headers.get("Host") or "").encode())(request)

    return handle


# --- a throw-away certificate authority -------------------------------------------------------


def make_tls_contexts(directory: Path, server_name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A test CA and a server certificate for ``server_name``: (server context, client context).

    The client context trusts only the test CA and verifies host names, like the default one.
    """
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SkillCred test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{server_name}.pem", directory / f"{server_name}.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


# --- name resolution stand-ins ----------------------------------------------------------------


def fixed_resolver(mapping: dict[str, list[str]], calls: list[str] | None = None):
    """A ``getaddrinfo`` stand-in answering from ``mapping`` (host -> addresses), recording calls."""

    def resolve(host: str, port: int, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0):
        if calls is not None:
            calls.append(host)
        if host not in mapping:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in mapping[host]
        ]

    return resolve


def no_dns(host: str, *args, **kwargs):
    raise AssertionError(f"no DNS lookup was expected, yet {host} was resolved")
