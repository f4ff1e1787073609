"""Running a coroutine from a synchronous test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_new_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(make())`` in a thread of its own, its exception raised here.

    The test's own thread may hold a running event loop that an earlier test in the same xdist
    worker left behind, and ``asyncio.run`` refuses to start inside one ("cannot be called from a
    running event loop"): a new thread has none."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
