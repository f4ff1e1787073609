"""Which new passwords are accepted: NIST SP 800-63B section 3.1.1.2 (memorized secrets).

A new password (registration, an account an admin creates, ``skillcred admin reset-password``)
must be 12 to 256 characters and must not be:

- only whitespace;
- the account's own email address, or its local part;
- on a list of common and breached passwords: the 30,000 most common passwords of the zxcvbn
  package's ``passwords`` frequency list (drawn from leaked password corpora), compared without
  regard to case;
- easy to guess otherwise: a dictionary word, name, keyboard pattern, repetition (``aaaa``),
  sequence (``1234``), date, or the service's name or the account's address with a few
  characters added, as zxcvbn estimates (below score 3, fewer than 10^8 guesses).

No composition rule (digits, capitals, symbols) is imposed, as section 3.1.1.2 asks. The lists
ship with the installed ``zxcvbn`` package (MIT, see NOTICE); nothing is fetched at run time.
"""

from __future__ import annotations

from functools import cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from service.core.errors import ServiceError

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3
"""zxcvbn's score 3: at least 10^8 guesses ("safely unguessable" against online attacks and
moderately against an offline one; the stored hash is argon2id)."""
ESTIMATE_CHARACTERS = 72
"""zxcvbn judges at most this many characters (its own limit); a longer password is judged by its
beginning, which can only make the estimate lower, never let a weak password through."""
SERVICE_WORDS = ("skillcred", "skill", "cred", "credential", "badge")
"""Context-specific words (section 3.1.1.2: "the name of the service")."""


class WeakPassword(ServiceError):
    """A new password that the policy above refuses: 422 ``weak_password``."""

    status_code, code = 422, "weak_password"


@cache
def common_passwords() -> frozenset[str]:
    """The common and breached passwords, lower-cased (loaded once)."""
    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def check_new_password(password: str, *, email: str) -> None:
    """Raise :class:`WeakPassword` unless ``password`` may be the password of the account ``email``."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"The password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    if not password.strip():
        raise WeakPassword("The password must not be only spaces or other whitespace")
    folded = password.strip().casefold()
    address = email.strip().casefold()
    local, _, domain = address.rpartition("@")
    if folded in {address, local}:
        raise WeakPassword("The password must not be your email address")
    if folded in common_passwords():
        raise WeakPassword("This password is on a list of common or breached passwords; choose another")
    context = [address, local, domain, *domain.split("."), *SERVICE_WORDS]
    estimate = zxcvbn(password[:ESTIMATE_CHARACTERS], user_inputs=[word for word in context if word])
    if estimate["score"] < MIN_SCORE:
        raise WeakPassword(
            "This password is too easy to guess (a common word, name, date, keyboard pattern, repetition, "
            "or your email address with a few characters added); a few unrelated words make a good one"
        )
