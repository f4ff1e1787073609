"""Time as a dependency: services ask a :class:`Clock` for "now" instead of calling
``datetime.now`` themselves, so tests set the time instead of patching functions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current time, timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant (UTC, timezone-aware)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where it is put, for tests: :meth:`set` it or :meth:`advance` it."""

    def __init__(self, moment: datetime) -> None:
        self._lock = threading.Lock()
        self._moment = _aware(moment)

    def now(self) -> datetime:
        with self._lock:
            return self._moment

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment`` (naive values are taken as UTC)."""
        with self._lock:
            self._moment = _aware(moment)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        with self._lock:
            self._moment += delta


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
