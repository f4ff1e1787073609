"""The verification report: one entry per check, with a stable id, an outcome and a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "warning", "skipped", "info"]

#: Stable check ids, in the order a report lists them.
CHECK_IDS = (
    "format",
    "baked_image",
    "jwt",
    "context",
    "schema",
    "proof",
    "issuer_key",
    "valid_from",
    "valid_until",
    "status",
    "endorsements",
    "assessment",
)


@dataclass(frozen=True)
class Check:
    """One check: ``id`` is stable (sub-ids such as ``status.revocation`` allowed). A ``failed``
    check is fatal; a problem that should not sink the credential is a ``warning``; ``info`` is
    not a check but something the credential states, shown with the report (e.g. ``assessment``:
    how the skill was judged)."""

    id: str
    outcome: Outcome
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``id``, ``outcome``, ``reason`` and ``details`` when there are any."""
        data: dict[str, Any] = {"id": self.id, "outcome": self.outcome, "reason": self.reason}
        if self.details:
            data["details"] = self.details
        return data


@dataclass
class VerificationReport:
    """What :func:`service.vc.verify.verify` found. ``verified`` is true only when no check failed."""

    format: str
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return bool(self.checks) and not any(c.outcome == "failed" for c in self.checks) and self.credential is not None

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == "warning"]

    def check(self, check_id: str) -> Check | None:
        """The first check with this id (or sub-id prefix ``id.``), if any."""
        for c in self.checks:
            if c.id == check_id or c.id.startswith(check_id + "."):
                return c
        return None

    def add(self, check_id: str, outcome: Outcome, reason: str, **details: Any) -> Check:
        c = Check(check_id, outcome, reason, details)
        self.checks.append(c)
        return c

    def to_dict(self, *, include_credential: bool = False) -> dict[str, Any]:
        """JSON form: ``verified``, ``format``, ``checks`` (and the credential if asked)."""
        data: dict[str, Any] = {
            "verified": self.verified,
            "format": self.format,
            "checks": [c.to_dict() for c in self.checks],
        }
        if include_credential:
            data["credential"] = self.credential
        return data

    def to_text(self) -> str:
        """A readable rendering for terminals."""
        marks = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "skipped": "SKIP", "info": "INFO"}
        lines = [f"{'VERIFIED' if self.verified else 'NOT VERIFIED'} ({self.format})"]
        lines += [f"  [{marks[c.outcome]}] {c.id}: {c.reason}" for c in self.checks]
        return "\n".join(lines)
