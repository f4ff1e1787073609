"""What a running job gets: the process's engine, keystore, settings, mailer and clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from service.core.clock import Clock
from service.core.config import Settings
from service.core.keystore import Keystore
from service.core.mail import Mailer

SERVICES_KEY = "skillcred"
"""The key of :class:`JobServices` in procrastinate's ``JobContext.additional_context``."""


@dataclass(frozen=True)
class JobServices:
    """The process-wide objects a job needs. A job opens its own short transactions on
    ``engine`` (:func:`service.core.db.unit_of_work`); none stays open while it calls out."""

    engine: Engine
    keystore: Keystore
    settings: Settings
    mailer: Mailer | None
    clock: Clock


def services_of(context: Any) -> JobServices:
    """The :class:`JobServices` of a procrastinate ``JobContext`` (tasks declared with
    ``pass_context=True``)."""
    services = context.additional_context.get(SERVICES_KEY)
    if not isinstance(services, JobServices):
        raise RuntimeError("this job runs outside a SkillCred worker (no JobServices in its context)")
    return services
