"""A tiny loopback TCP proxy that a test can cut and restore, to take a database away for a while.

``TcpProxy(host, port)`` listens on 127.0.0.1 and forwards every connection to ``host:port``.
:meth:`TcpProxy.cut` closes the listening socket (new connections are refused, as by a stopped
server) and every open connection (as a server that went away); :meth:`TcpProxy.restore` listens
again on the same port. Threads only; nothing leaves the loopback interface.
"""

from __future__ import annotations

import select
import socket
import threading


class TcpProxy:
    """Forward 127.0.0.1:<port> to ``target``; cut and restore it on demand."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._open = True
        self._closed = False
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._changed = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._serve, name="tcp-proxy", daemon=True)
        self._thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        return listener

    def _serve(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    break
                if self._open and self._listener is None:
                    self._listener = self._listen(self.port)
                    self._changed.notify_all()
                elif not self._open and self._listener is not None:
                    self._listener.close()
                    self._listener = None
                    self._changed.notify_all()
                listener = self._listener
            if listener is None:
                with self._lock:
                    self._changed.wait(0.05)
                continue
            readable, _, _ = select.select([listener], [], [], 0.05)
            if not readable:
                continue
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            self._connect(client)
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        with self._lock:
            if not self._open:
                client.close()
                upstream.close()
                return
            self._connections.update((client, upstream))
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            self._drop(end)

    def _drop(self, end: socket.socket) -> None:
        with self._lock:
            self._connections.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self) -> None:
        """Refuse new connections and close every open one; returns once the port is closed."""
        with self._lock:
            self._open = False
            connections = list(self._connections)
            while self._listener is not None:
                self._changed.wait(1)
        for end in connections:
            self._drop(end)

    def restore(self) -> None:
        """Accept and forward connections again on the same port; returns once it listens."""
        with self._lock:
            self._open = True
            while self._listener is None:
                self._changed.wait(1)

    def close(self) -> None:
        """Stop the proxy and close everything it holds."""
        self.cut()
        with self._lock:
            self._closed = True
        self._thread.join(timeout=5)
