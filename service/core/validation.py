"""Input validators shared by the API schemas: URLs, ids, email addresses and text that a signed
credential can carry, each with the JSON Schema that says exactly what it accepts.

Every URL or id accepted here is a valid absolute IRI for RDF (checked with pyoxigraph, which the
canonicalizer uses), so whatever the API stores can later be signed: a value JSON-LD would refuse
(spaces, ``<>"{}|\\^``, a relative reference) is refused at the door with a 422 instead. The
OpenAPI document carries each rule as a ``pattern`` (ECMA-262 and Python ``re`` alike), and the
validators check that same pattern, so a value the document admits is a value the API accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlsplit

import email_validator
import pyoxigraph
from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+", re.IGNORECASE)
# C0 controls other than tab, newline and carriage return, and DEL: no business in badge text,
# and PostgreSQL cannot store NUL at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _code_point(value: int) -> str:
    # BMP characters as \\uXXXX escapes, which ECMA-262 and Python ``re`` read alike; the others
    # as themselves (ECMA-262 has no escape for them outside its ``u`` mode, Python no \\u{...}).
    return f"\\u{value:04x}" if value <= 0xFFFF else chr(value)


def _character_class(ranges: Iterable[tuple[int, int]]) -> str:
    """The inside of a regex character class for the code point ``ranges``."""
    return "".join(_code_point(lo) if lo == hi else f"{_code_point(lo)}-{_code_point(hi)}" for lo, hi in ranges)


def character_class(keep: Callable[[str], bool]) -> str:
    """The inside of a regex character class of every character ``keep`` accepts (computed with
    this Python's Unicode database, so the document says what this server does)."""
    return _character_class(_runs(range(0x110000), lambda c: keep(chr(c))))


def _runs(code_points: Iterable[int], keep: Callable[[int], bool]) -> list[tuple[int, int]]:
    """Consecutive runs of the ``code_points`` that ``keep`` accepts."""
    runs: list[tuple[int, int]] = []
    for code_point in code_points:
        if not keep(code_point):
            continue
        if runs and runs[-1][1] == code_point - 1:
            runs[-1] = (runs[-1][0], code_point)
        else:
            runs.append((code_point, code_point))
    return runs


# RFC 3987 section 2.2: ucschar and iprivate, the non-ASCII characters an IRI may carry in its path,
# query and fragment, restricted to the Basic Multilingual Plane (a pattern for the other planes
# reads differently in ECMA-262 and Python). The user name and host are ASCII (RFC 3986; an
# internationalised domain name in its ``xn--`` form): Python's urlsplit also refuses a non-ASCII
# host that NFKC turns into ``/?#@:``.
_UCSCHAR = _character_class([(0xA0, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFEF)])
_IPRIVATE = _character_class([(0xE000, 0xF8FF)])
_PCT = "%[0-9A-Fa-f]{2}"
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_HOST_CHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})"
_USER_CHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})"
_IPCHAR_SET = f"{_UNRESERVED}{_SUB_DELIMS}:@{_UCSCHAR}"
_IPCHAR = f"(?:[{_IPCHAR_SET}]|{_PCT})"
_QUERY = f"(?:[{_IPCHAR_SET}/?{_IPRIVATE}]|{_PCT})*"
_FRAGMENT = f"(?:[{_IPCHAR_SET}/?]|{_PCT})*"
_TAIL = f"(?:\\?{_QUERY})?(?:#{_FRAGMENT})?"
#: What an IRI matching the patterns below must not contain: Unicode whitespace (refused as a
#: mistake, see ``_valid_iri``; a JSON Schema ``not``, which costs a generator less than a pattern
#: that leaves those characters out of its ranges).
IRI_REFUSED_PATTERN = f"[{character_class(lambda c: c.isspace() and ord(c) >= 0xA0)}]"

#: An IRI's path, query and fragment after its authority (``ipath-abempty [ "?" iquery ] [ "#" ifragment ]``).
IRI_PATH_AND_TAIL = f"(?:/{_IPCHAR}*)*{_TAIL}"
#: A TCP port a URL may name (0 to 65535), or none after the colon.
PORT_PATTERN = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])?"
_H16 = "[0-9A-Fa-f]{1,4}"
_DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}"
_LS32 = f"(?:{_H16}:{_H16}|{_IPV4})"
#: RFC 3986 section 3.2.2 ``IPv6address``, to put in brackets.
IPV6_PATTERN = (
    "(?:"
    + "|".join(
        [
            f"(?:{_H16}:){{6}}{_LS32}",
            f"::(?:{_H16}:){{5}}{_LS32}",
            f"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
            f"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
            f"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
            f"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
            f"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
            f"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
            f"(?:(?:{_H16}:){{0,6}}{_H16})?::",
        ]
    )
    + ")"
)
#: A host name of DNS labels (1 to 63 letters, digits, ``-`` or ``_``), as the SSRF-safe fetcher
#: takes it (IDNA-encoded: an internationalised name is given in its ``xn--`` form).
DNS_NAME_PATTERN = r"[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?"

#: An absolute http(s) IRI with a host (RFC 3987 section 2.2, ``IRI`` with ``ihier-part`` =
#: ``"//" iauthority ipath-abempty``; no IP literal host). The scheme is case-insensitive.
HTTP_URL_PATTERN = f"^[Hh][Tt][Tt][Pp][Ss]?://(?:{_USER_CHAR}*@)?{_HOST_CHAR}+(?::[0-9]*)?{IRI_PATH_AND_TAIL}$"
#: A URN (RFC 8141: ``urn:`` NID ``:`` NSS) that is also an IRI.
URN_PATTERN = f"^[Uu][Rr][Nn]:[A-Za-z0-9][A-Za-z0-9-]{{0,31}}:(?:{_IPCHAR}|/)+{_TAIL}$"
#: Either: what an id a credential points at may be.
ABSOLUTE_ID_PATTERN = f"^(?:{URN_PATTERN[1:-1]}|{HTTP_URL_PATTERN[1:-1]})$"
_HTTP_URL = re.compile(HTTP_URL_PATTERN)
_URN_IRI = re.compile(URN_PATTERN)


def _valid_iri(value: str) -> bool:
    try:
        pyoxigraph.NamedNode(value)
    except ValueError:
        return False
    return not any(c.isspace() for c in value)


def http_url(value: str) -> str:
    """An absolute http(s) URL with a host that is also a valid IRI, kept as written
    (``HTTP_URL_PATTERN``)."""
    if not _HTTP_URL.fullmatch(value) or not urlsplit(value).hostname or not _valid_iri(value):
        raise ValueError('must be an absolute http(s) URL (no spaces or <>"{}|\\^` characters)')
    return value


def http_iri(value: str) -> str:
    """An absolute http(s) IRI with a host, an IP literal in brackets included, kept as written:
    what the SSRF-safe fetcher's callers take before the fetcher applies its own rules."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not _valid_iri(value):
        raise ValueError('must be an absolute http(s) URL (no spaces or <>"{}|\\^` characters)')
    return value


def absolute_id(value: str) -> str:
    """An id a credential can point at: an http(s) URL or a URN (``ABSOLUTE_ID_PATTERN``)."""
    if _URN_IRI.fullmatch(value) and _URN.fullmatch(value) and _valid_iri(value):
        return value
    try:
        return http_url(value)
    except ValueError:
        raise ValueError("must be an absolute http(s) URL or a URN (urn:...)") from None


def clean_text(value: str) -> str:
    """Text without control characters (tab and newlines allowed) or lone surrogates."""
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (lone surrogate)") from None
    return value


_CONTROL_CLASS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"
#: ``clean_text``'s refusal as a pattern, so the OpenAPI document says what is refused. (A lone
#: surrogate, which only a JSON ``\ud800`` escape can send, is refused too; no pattern can name
#: one that Rust-based validators such as schemathesis's compile.)
NO_CONTROL_CHARACTERS = f"^[^{_CONTROL_CLASS}]*$"
# What str.strip() removes (str.isspace), spelled out: ECMA-262's \s is another set.
_SPACE_CLASS = _character_class(_runs(range(0x10000), lambda c: chr(c).isspace()))
#: ``trimmed_text``'s rule: no control character, and at least one character that is not whitespace.
NOT_BLANK_TEXT = f"^[^{_CONTROL_CLASS}]*[^{_SPACE_CLASS}{_CONTROL_CLASS}][^{_CONTROL_CLASS}]*$"


def trimmed_text(value: str) -> str:
    """``clean_text`` that is not blank, without its surrounding whitespace (``NOT_BLANK_TEXT``)."""
    value = clean_text(value).strip()
    if not value:
        raise ValueError("must not be empty or only whitespace")
    return value


@dataclass(frozen=True, eq=False)  # hashed by identity: typing hashes annotations, and schemas hold dicts
class _Rule:
    """An after-validator that also writes its rule into the JSON schema (a ``pattern``, a
    ``format``...), so the OpenAPI document says what the validator refuses."""

    check: Callable[[str], str]
    json_schema: tuple[tuple[str, Any], ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema.update(dict(self.json_schema))
        return json_schema


def rule(check: Callable[[str], str], **json_schema: Any) -> _Rule:
    """Annotation: validate with ``check`` (a ValueError is a 422) and document ``json_schema``."""
    return _Rule(check, tuple(json_schema.items()))


RULE_ERROR_PREFIX = "rule:"


def rule_error(code: str, message: str) -> PydanticCustomError:
    """The refusal of a rule the JSON Schema cannot express (a name that is a DID, a value that must
    exist...): raise it from a validator, and the 422's ``error`` is ``code``, not ``validation_error``."""
    return PydanticCustomError(RULE_ERROR_PREFIX + code, message)


CLEAN_TEXT = rule(clean_text, pattern=NO_CONTROL_CHARACTERS)
"""Annotation for text fields: no control characters (``clean_text``), documented as a pattern."""

_INVISIBLE_CLASS = "\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\t\n\r"
INVISIBLE_FORMATTING = f"[{_INVISIBLE_CLASS}]"
"""Characters that change how text around them is shown without being seen (bidi overrides and
isolates, zero-width characters, line and paragraph separators, soft hyphens...), and line breaks."""
_INVISIBLE = re.compile(INVISIBLE_FORMATTING)


def shown_name(value: str) -> str:
    """``trimmed_text`` on one line without :data:`INVISIBLE_FORMATTING`: a name shown to others
    (a display name on a public badge page) cannot be made to read as something else."""
    value = trimmed_text(value)
    if _INVISIBLE.search(value):
        raise ValueError("invisible formatting characters and line breaks are not allowed in a name")
    return value


TRIMMED_TEXT = rule(trimmed_text, minLength=1, pattern=NOT_BLANK_TEXT)
"""Annotation for names and labels: ``trimmed_text``. Put the length limit before it
(``Field(max_length=...)``): the limit applies to the text as sent."""

SHOWN_NAME = rule(shown_name, minLength=1, pattern=NOT_BLANK_TEXT, **{"not": {"pattern": INVISIBLE_FORMATTING}})
"""Annotation for a name shown to other people: ``shown_name``."""

HttpUrlText = Annotated[
    str,
    Field(min_length=1, max_length=2048),
    rule(http_url, pattern=HTTP_URL_PATTERN, **{"not": {"pattern": IRI_REFUSED_PATTERN}}),
]
"""An http(s) URL as text (OB 3.0 ``url``, ``image`` ... are plain URIs)."""

Iri = Annotated[
    str,
    Field(max_length=2048),
    rule(absolute_id, pattern=ABSOLUTE_ID_PATTERN, **{"not": {"pattern": IRI_REFUSED_PATTERN}}),
]
"""An http(s) URL or URN id."""


def one_of_set(*names: str) -> dict[str, Any]:
    """JSON Schema: exactly one of the properties ``names`` is set (present and not null)."""
    return {"oneOf": [_set(name) for name in names]}


def any_of_set(*names: str) -> dict[str, Any]:
    """JSON Schema: at least one of the properties ``names`` is set (present and not null)."""
    return {"anyOf": [_set(name) for name in names]}


def _set(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


# --- JSON types, as JSON Schema reads them -------------------------------------------------------
# pydantic's lax mode also takes "5" for an integer, 0 for a boolean and 1700000000 for a date-time;
# the OpenAPI document says integer, boolean and a date-time string, so these take only those.


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON integer")
    return value


_FULL_DATE = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
#: RFC 3339 section 5.6 ``full-date`` (year 0001 on: Python has no year 0; the calendar is checked too).
DATE_PATTERN = f"^{_FULL_DATE}$"
#: RFC 3339 section 5.6 ``date-time`` with an offset (``Z`` or ``+hh:mm``), seconds 00-59.
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?"
_OFFSET = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATE_TIME_PATTERN = f"^{_FULL_DATE}[Tt]{_TIME}{_OFFSET}$"


def _rfc3339(pattern: str) -> Callable[[Any], Any]:
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError("must be an RFC 3339 " + ("date-time with a time zone" if "T" in pattern else "date"))
        return value

    return check


JSON_INTEGER = BeforeValidator(_json_integer)
"""Annotation for ``int`` inputs, after their ``Field(ge=..., le=...)``: a JSON number (a float
without a fraction counts, as in JSON Schema), not text or a boolean."""

JsonBool = Annotated[bool, Strict()]
"""``true`` or ``false``."""

DateTimeText = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339(DATE_TIME_PATTERN)),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}),
]
"""An RFC 3339 date-time with a time zone, as text (``2030-01-31T12:00:00Z``)."""

DateText = Annotated[
    date,
    BeforeValidator(_rfc3339(DATE_PATTERN)),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
"""An RFC 3339 full-date (``2030-01-31``), as text."""


# --- email addresses ---------------------------------------------------------------------------

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
# RFC 1035 2.3.1 labels (letters, digits, inner hyphens) without "--" (RFC 5890's reserved "??--"
# form, Punycode included), and a top-level domain of letters.
_DOMAIN = r"[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*\.[A-Za-z]+"


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


_ASCII_SPACE = "[\\t-\\r ]*"
#: An ASCII email address: a dot-atom local part, ``@``, a domain name of two or more labels
#: (surrounding ASCII whitespace is dropped).
EMAIL_PATTERN = f"^{_ASCII_SPACE}[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*@{_DOMAIN}{_ASCII_SPACE}$"
_SPECIAL_USE = "|".join(_any_case(name) for name in sorted(email_validator.SPECIAL_USE_DOMAIN_NAMES))
#: What an address matching ``EMAIL_PATTERN`` must not contain: a local part over 64 characters
#: (RFC 5321 4.5.3.1.1), a domain label over 63 (RFC 1035 2.3.4), or a special-use domain
#: (RFC 6761: ``.test``, ``.local``, ``.invalid``... never deliver).
EMAIL_REFUSED_PATTERN = (
    f"^{_ASCII_SPACE}[^@\\t-\\r ]{{65}}|@[^@]*[A-Za-z0-9-]{{64}}|\\.(?:{_SPECIAL_USE}){_ASCII_SPACE}$"
)
_EMAIL = re.compile(EMAIL_PATTERN)
_EMAIL_REFUSED = re.compile(EMAIL_REFUSED_PATTERN)
EMAIL_MAX_LENGTH = 254
ASCII_WHITESPACE = "\t\n\x0b\x0c\r "


def email_address(value: str) -> str:
    """An address that matches ``EMAIL_PATTERN`` but not ``EMAIL_REFUSED_PATTERN``, at most
    ``EMAIL_MAX_LENGTH`` characters, and that email-validator accepts, normalised as
    email-validator does (the domain in lower case)."""
    if not _EMAIL.fullmatch(value) or _EMAIL_REFUSED.search(value):
        raise ValueError(
            "must be an email address such as name@example.com (ASCII, no spaces or display name, "
            "not a special-use domain such as .test or .local)"
        )
    try:
        return email_validator.validate_email(value.strip(ASCII_WHITESPACE), check_deliverability=False).normalized
    except email_validator.EmailNotValidError as err:
        raise ValueError(f"not a valid email address: {err}") from None


Email = Annotated[
    str,
    Field(max_length=EMAIL_MAX_LENGTH),
    rule(email_address, pattern=EMAIL_PATTERN, **{"not": {"pattern": EMAIL_REFUSED_PATTERN}}),
]
"""An email address (``email_address``), documented by its pattern. Not ``format: email``: that
format refuses the surrounding whitespace this type drops, and says nothing of the rest."""
