"""Bounds on the work one verification may do, checked before the work is done.

A credential is attacker-supplied input to ``POST /v1/verify``: a few kilobytes can ask for many
proofs, many context variants, deep nesting or many embedded endorsements, each of which costs a
JSON-LD expansion and an RDFC-1.0 canonicalization. :class:`VerificationLimits` caps the shape of
the input (checked before anything is canonicalized) and :class:`Budget` caps the CPU time and the
number of canonicalizations of one verification; running out is a failed check, never a hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import VCError


class BudgetExceeded(VCError):
    """The verification needed more work than its budget allows."""

    code = "verification_budget_exceeded"


@dataclass(frozen=True)
class VerificationLimits:
    """What one verification accepts before doing any expensive work.

    The defaults are far above what any real Open Badges 3.0 credential needs (one or two proofs,
    three or four contexts, a few hundred JSON values) and far below what costs seconds.
    """

    max_proofs: int = 4
    max_contexts: int = 16
    max_endorsements: int = 16
    max_status_entries: int = 4
    max_status_documents: int = 8
    # pyld's node map compares every value of a property with the others (quadratic): 8,000
    # values in one property cost 11.7 s of CPU in one canonicalization, 2,000 about 0.7 s. A real
    # credential, even with sixteen endorsements embedded, has well under 2,000.
    max_json_values: int = 2_000
    max_depth: int = 48
    cpu_seconds: float = 2.0
    wall_seconds: float = 10.0
    max_canonicalizations: int = 64


DEFAULT_LIMITS = VerificationLimits()


class Budget:
    """CPU seconds (of the calling thread), wall seconds and canonicalizations left.

    :meth:`charge` is called before each expensive step and raises :class:`BudgetExceeded` once
    any of the three is spent. CPU time is the thread's own (``time.thread_time``), so a request
    that waits for the GIL behind others is not cut short; the wall-clock cap is a backstop.
    """

    def __init__(
        self,
        limits: VerificationLimits = DEFAULT_LIMITS,
        *,
        cpu_clock: Callable[[], float] = time.thread_time,
        wall_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self._cpu_clock, self._wall_clock = cpu_clock, wall_clock
        self._cpu_start, self._wall_start = cpu_clock(), wall_clock()
        self.canonicalizations = 0
        self.status_documents = 0

    def charge(self, canonicalizations: int = 0) -> None:
        """Account for a step about to run; raises :class:`BudgetExceeded` if it may not."""
        cpu = self._cpu_clock() - self._cpu_start
        wall = self._wall_clock() - self._wall_start
        if cpu > self.limits.cpu_seconds:
            raise BudgetExceeded(f"Verification stopped after {cpu:.1f} s of CPU (limit {self.limits.cpu_seconds} s)")
        if wall > self.limits.wall_seconds:
            raise BudgetExceeded(f"Verification stopped after {wall:.1f} s (limit {self.limits.wall_seconds} s)")
        if self.canonicalizations + canonicalizations > self.limits.max_canonicalizations:
            raise BudgetExceeded(
                f"Verification would need more than {self.limits.max_canonicalizations} canonicalizations"
            )
        self.canonicalizations += canonicalizations

    def charge_status_document(self) -> None:
        """Account for fetching one status list (they may be remote: each costs a request)."""
        if self.status_documents >= self.limits.max_status_documents:
            raise BudgetExceeded(f"Verification would read more than {self.limits.max_status_documents} status lists")
        self.status_documents += 1


def unlimited() -> Budget:
    """A budget that never runs out: for signing our own documents and for tests."""
    return Budget(VerificationLimits(cpu_seconds=float("inf"), wall_seconds=float("inf"), max_canonicalizations=10**9))


def json_shape(value: Any, max_values: int, max_depth: int) -> str | None:
    """Why ``value`` is too big or too deep to process, or None. Iterative: deep input cannot
    exhaust the stack, and it stops counting at the first limit crossed."""
    if _within_limits(value, max_values, max_depth):
        return None
    return _first_limit_crossed(value, max_values, max_depth)


def _within_limits(value: Any, max_values: int, max_depth: int) -> bool:
    """Whether ``value`` has at most ``max_values`` JSON values and ``max_depth`` levels: the
    values counted a level at a time, each level's children gathered by ``list.extend`` in C.
    It stops at the first level past a limit, as :func:`_first_limit_crossed` does at the first
    value, which then names the limit in its own (depth-first) order."""
    level = [value]
    count, depth = 0, 1
    while level:
        count += len(level)
        if count > max_values or depth > max_depth:
            return False
        children: list[Any] = []
        room = max_values - count  # children past it cross the limit: gather no more than that
        for item in level:
            if isinstance(item, dict):
                children.extend(item.values())
            elif isinstance(item, list):
                children.extend(item)
            if len(children) > room:
                return False
        level = children
        depth += 1
    return True


def _first_limit_crossed(value: Any, max_values: int, max_depth: int) -> str | None:
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > max_values:
            return f"it has more than {max_values} JSON values"
        if depth > max_depth:
            return f"it nests deeper than {max_depth} levels"
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None
