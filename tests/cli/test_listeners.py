"""`skillcred serve --workers N`: a listening socket per worker, so the kernel spreads connections
over the workers (service/cli/listeners.py)."""

from __future__ import annotations

import pickle
import socket
import time
from collections import Counter
from pathlib import Path

import pytest

from service.cli.listeners import WorkerListener, bound_socket, supported
from tests.serve import running_server

pytestmark = pytest.mark.skipif(not supported(), reason="SO_REUSEPORT spreads connections on Linux only")

LISTEN, ESTABLISHED = "0A", "01"


def _accepted(listener: socket.socket) -> int:
    listener.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def test_a_worker_listener_is_a_new_socket_on_the_same_port_in_each_process_that_unpickles_it():
    holder = bound_socket("127.0.0.1", 0)  # the supervisor's: holds the port, never listens
    port = holder.getsockname()[1]
    first, second = (pickle.loads(pickle.dumps(WorkerListener("127.0.0.1", port))) for _ in range(2))
    try:
        assert isinstance(first, socket.socket) and first.fileno() != second.fileno()
        assert first.getsockname()[1] == second.getsockname()[1] == port
        first.listen(128)
        second.listen(128)
        clients = [socket.create_connection(("127.0.0.1", port), timeout=2) for _ in range(64)]
        time.sleep(0.1)
        counts = (_accepted(first), _accepted(second))
        for client in clients:
            client.close()
    finally:
        for sock in (holder, first, second):
            sock.close()
    assert sum(counts) == 64, "the socket that does not listen was given connections"
    assert min(counts) > 0, f"one listener took every connection: {counts}"


def _inodes(port: int, state: str) -> set[str]:
    """The inodes of the TCP sockets on local ``port`` in ``state`` (/proc/net/tcp, tcp6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(fields[9])
    return found


def _by_worker(pids: list[int], inodes: set[str]) -> Counter[int]:
    """How many of ``inodes`` each of ``pids`` holds open."""
    counts: Counter[int] = Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = fd.readlink().name
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                counts[pid] += 1
    return counts


def _workers(server_pid: int) -> list[int]:
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]


def test_serve_with_two_workers_gives_each_a_listening_socket_and_both_get_connections(tmp_path):
    with running_server(f"sqlite:///{tmp_path}/skillcred.db", tmp_path, workers=2) as server:
        port = int(server.base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while True:  # /ready answers once one worker listens; wait for the second
            workers = _workers(server.process.pid)
            listening = _by_worker(workers, _inodes(port, LISTEN))
            if len(listening) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(workers) == 2 and sorted(listening.values()) == [1, 1], listening
        assert _by_worker([server.process.pid], _inodes(port, LISTEN)) == Counter()  # the supervisor only holds

        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(32)]
        try:
            for client in clients:
                client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for client in clients:
                assert client.recv(64).startswith(b"HTTP/1.1 200")
            accepted = _by_worker(workers, _inodes(port, ESTABLISHED))
        finally:
            for client in clients:
                client.close()
    assert sum(accepted.values()) == 32 and len(accepted) == 2, f"connections by worker: {dict(accepted)}"
