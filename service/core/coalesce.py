"""Concurrent asks for the same kind of read, answered by shared reads that each start after
every ask they answer. No FastAPI here.

A kept verification report is served only after its inputs are read again from the database
(:mod:`service.verification.cache`). Under load, dozens of requests of one event loop ask that at
once, and one read per request costs each a worker-thread hop and a database round trip. A
:class:`Coalescer` runs one read (in a worker thread) for everything asked while no read could
start, and hands each asker its own answer.

What it promises is what a read per request promised: **a read that answers an ask starts after
the ask**. An ask never joins a read already running (it may have read the database before the
asker's own earlier write or a revocation that committed a moment ago); it waits for the next one,
which takes everything asked meanwhile. So a change committed before a request arrived is seen by
that request, in every worker, as before; only the number of reads changes.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio.to_thread

Ask = TypeVar("Ask")
Answer = TypeVar("Answer")


@dataclass
class _Waiting(Generic[Ask, Answer]):
    """Asks not yet given to a read, by key (one entry per distinct key, however many ask it)."""

    asks: dict[Hashable, tuple[Ask, list[asyncio.Future[Answer]]]] = field(default_factory=dict)
    reads: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class Coalescer(Generic[Ask, Answer]):
    """Answers ``await coalescer.ask(key, item)`` with ``read(items)[i]``, where ``read`` is a
    blocking function of a batch of distinct items, run in a worker thread.

    - At most ``max_reads`` reads run at once per event loop; an ask made while that many run
      waits for the next read to start, and shares it with every other ask made meanwhile. One
      by default: with two, each read was shared by half as many asks, and ``POST /v1/verify``
      of a kept report served 2,903 req/s against 6,529 with one (bench/http_load.py, wrk, 2
      workers on PostgreSQL, consecutive runs).
    - Asks with equal ``key`` share one item in the batch (the first one asked).
    - At most ``max_batch`` distinct items go into one read; the rest wait for the next.
    - ``read`` must return one answer per item, in order. When it raises, every ask of that
      batch raises the same exception.

    State is kept per event loop (an app may be served by one loop after another, e.g. in
    tests); it is touched only from that loop's thread."""

    def __init__(self, read: Callable[[Sequence[Ask]], Sequence[Answer]], *, max_reads: int = 1, max_batch: int = 64):
        if max_reads < 1 or max_batch < 1:
            raise ValueError("max_reads and max_batch must be at least 1")
        self._read = read
        self._max_reads = max_reads
        self._max_batch = max_batch
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waiting[Ask, Answer]] = (
            weakref.WeakKeyDictionary()
        )
        self.reads = 0
        """Reads run so far (all loops): with :attr:`asks`, how much was shared."""
        self.asks = 0

    async def ask(self, key: Hashable, item: Ask) -> Answer:
        """``item``'s answer from a read that starts after this call."""
        loop = asyncio.get_running_loop()
        waiting = self._loops.get(loop)
        if waiting is None:
            waiting = self._loops[loop] = _Waiting()
        future: asyncio.Future[Answer] = loop.create_future()
        entry = waiting.asks.get(key)
        if entry is None:
            waiting.asks[key] = (item, [future])
        else:
            entry[1].append(future)
        self.asks += 1
        if waiting.reads < self._max_reads:
            self._start(waiting)
        # a request that goes away cancels only its own future: the read runs as a task of its own
        return await future

    def _start(self, waiting: _Waiting[Ask, Answer]) -> None:
        """Start a read of the waiting asks (up to ``max_batch`` keys), as a task of its own."""
        keys = list(waiting.asks)[: self._max_batch]
        batch = [waiting.asks.pop(key) for key in keys]
        waiting.reads += 1
        self.reads += 1
        task = asyncio.get_running_loop().create_task(self._run(waiting, batch))
        waiting.tasks.add(task)
        task.add_done_callback(waiting.tasks.discard)

    async def _run(self, waiting: _Waiting[Ask, Answer], batch: list[tuple[Ask, list[asyncio.Future[Answer]]]]) -> None:
        try:
            answers = await anyio.to_thread.run_sync(self._read, [item for item, _ in batch])
            if len(answers) != len(batch):
                raise RuntimeError(f"read returned {len(answers)} answers for {len(batch)} items")
        except BaseException as error:  # every ask of the batch learns why; cancellation included
            for _, futures in batch:
                for future in futures:
                    if future.done():
                        continue
                    if isinstance(error, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(error)
            if not isinstance(error, Exception):  # the loop is shutting down: start no other read
                waiting.reads -= 1
                for _, futures in waiting.asks.values():
                    for future in futures:
                        future.cancel()
                waiting.asks.clear()
                raise
        else:
            for (_, futures), answer in zip(batch, answers, strict=True):
                for future in futures:
                    if not future.done():
                        future.set_result(answer)
        waiting.reads -= 1
        if waiting.asks and waiting.reads < self._max_reads:
            self._start(waiting)


class Lanes(Generic[Ask, Answer]):
    """A :class:`Coalescer` per combination of objects (an engine, the settings...), made on first
    use: asks on different engines (a read replica and the primary) never share a read. The
    objects are kept with their coalescer, so their ids stay theirs."""

    def __init__(self) -> None:
        self._lanes: dict[tuple[int, ...], tuple[tuple[object, ...], Coalescer[Ask, Answer]]] = {}

    def of(self, read: Callable[..., Sequence[Answer]], *parts: object) -> Coalescer[Ask, Answer]:
        """The coalescer of ``parts``, whose reads call ``read(*parts, items)``."""
        key = tuple(id(part) for part in parts)
        found = self._lanes.get(key)
        if found is None:
            found = self._lanes.setdefault(key, (parts, Coalescer(functools.partial(read, *parts))))
        return found[1]
