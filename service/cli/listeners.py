"""A listening socket of its own for each worker of ``skillcred serve --workers N`` (Linux).

uvicorn's supervisor binds one socket and hands every worker that same socket. A worker's event
loop accepts every connection waiting when it wakes, so a burst of new connections can all land
on one worker while the other idles: bench/http_load.py (wrk, 32 keep-alive connections, 2
workers) measured splits of 0+32 and 2+30, and those rounds served about half as much. With one
listening socket per worker, each bound with ``SO_REUSEPORT`` (socket(7), Linux 3.9+), the
kernel spreads new connections over the workers' sockets by a hash of each connection's
addresses.

uvicorn's supervisor (:class:`uvicorn.supervisors.Multiprocess`) still runs the workers: it
restarts one that dies and passes signals on. It starts each worker with the ``spawn`` method and
pickles the sockets it hands it; a :class:`WorkerListener` pickles as its address and is
unpickled, in the worker, as a new socket bound there, which uvicorn then listens on.

The supervisor keeps one socket bound to the address with ``SO_REUSEPORT``, never listening: it
holds the port while workers restart (a port of 0 is chosen once, there), and the kernel gives
connections only to listening sockets.

``SO_REUSEPORT`` lets another process of the same user bind the same port and take a share of
its connections (socket(7)): run the service under a user of its own, as a service should be.
"""

from __future__ import annotations

import logging
import socket
import sys
from dataclasses import dataclass
from typing import Any, cast

import uvicorn
from uvicorn.supervisors import Multiprocess

logger = logging.getLogger("uvicorn.error")


def supported() -> bool:
    """Whether listening sockets of their own can be made here (Linux: connections are spread
    over the sockets of one port; elsewhere ``SO_REUSEPORT`` means something else, or nothing)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bound_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT``, not listening yet."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class WorkerListener:
    """An address that becomes a socket of the worker's own when a worker process unpickles it."""

    host: str
    port: int

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return bound_socket, (self.host, self.port)


def serve_workers(config: uvicorn.Config) -> None:
    """Run ``config.workers`` uvicorn workers under uvicorn's supervisor, each listening on a
    socket of its own bound to ``config.host:config.port`` (see the module docstring)."""
    try:
        holder = bound_socket(config.host, config.port)
    except OSError as error:
        logger.error(error)
        raise SystemExit(3) from error  # uvicorn's STARTUP_FAILURE
    try:
        port = holder.getsockname()[1]
        shown = f"[{config.host}]" if ":" in config.host else config.host
        scheme = "https" if config.is_ssl else "http"
        logger.info(
            "Uvicorn running on %s://%s:%d, one listening socket per worker (SO_REUSEPORT) (Press CTRL+C to quit)",
            scheme,
            shown,
            port,
        )
        listeners = cast(list[socket.socket], [WorkerListener(config.host, port)])
        Multiprocess(config, sockets=listeners).run()
    finally:
        holder.close()
