"""One verification pipeline for every input: JSON-LD, VC-JWT, or a baked PNG/SVG badge.

``verify(source, key_resolver=..., status_resolver=...)`` never raises for bad input: whatever it
is given, it returns a :class:`~service.vc.report.VerificationReport` whose checks say what passed,
what failed and why. The resolvers are where I/O lives (the service's database, the CLI's
``--resolve`` files); without them only ``did:key`` issuers can be checked.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from . import data_integrity, jose, openbadges, revocation_list, status_list
from .baking import extract_baked
from .budget import DEFAULT_LIMITS, Budget, VerificationLimits, json_shape
from .constants import CREDENTIALS_V1, CREDENTIALS_V2
from .did import ChainedKeyResolver, DidKeyResolver, KeyResolver, VerificationMethod
from .errors import VCError
from .report import VerificationReport
from .skillcred import describe, read_assessment

MAX_INPUT_BYTES = 8 * 1024 * 1024
_KEY_CODES = {
    "key_resolution_failed",
    "controller_mismatch",
    "purpose_mismatch",
    "unsupported_key_type",
    "key_error",
    "malformed_key",
    "key_not_resolved",
    "key_not_published",
}
_XSD_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def verify(
    source: Mapping[str, Any] | str | bytes,
    *,
    key_resolver: KeyResolver | None = None,
    status_resolver: status_list.StatusListResolver | None = None,
    now: datetime | None = None,
    limits: VerificationLimits = DEFAULT_LIMITS,
) -> VerificationReport:
    """Verify a credential given as a JSON object, JSON text, a compact VC-JWT, or badge image bytes.

    ``did:key`` methods always resolve offline; ``key_resolver`` adds the rest. Status entries are
    read through ``status_resolver``; without one, or when a list cannot be fetched, the status
    check is a warning, never a silent pass.

    The work is bounded before it is done (``limits``): the input's size and depth, the number of
    contexts (no URL twice), proofs, status entries and embedded endorsements are checked first,
    and the whole verification, endorsements included, shares one CPU and canonicalization
    :class:`~service.vc.budget.Budget`. Beyond a limit the report fails with the reason.
    """
    now = now or datetime.now(UTC)
    keys = _ResolvedOnce(ChainedKeyResolver(DidKeyResolver(), key_resolver) if key_resolver else DidKeyResolver())
    return _verify_source(source, keys, status_resolver, now, Budget(limits), nested=False)


def _verify_source(
    source: Any, keys: KeyResolver, statuses: Any, now: datetime, budget: Budget, *, nested: bool
) -> VerificationReport:
    report = VerificationReport(format="unknown")
    try:
        _verify_into(report, source, keys, statuses, now, budget, nested)
    except VCError as err:  # defensive: every step reports its own errors
        report.add("format", "failed", f"{err.code}: {err}")
    except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError) as err:
        # defensive too: no input may turn into an unhandled exception (a 500 over HTTP)
        report.add("format", "failed", f"The input could not be processed: {type(err).__name__}")
    return report


def _verify_into(
    report: VerificationReport,
    source: Any,
    keys: KeyResolver,
    statuses: Any,
    now: datetime,
    budget: Budget,
    nested: bool,
) -> None:
    source = _decode_input(report, source)
    if source is None:
        return
    if isinstance(source, str):
        report.format = "vc-jwt" if report.format == "unknown" else report.format
        credential = _verify_jwt(report, source, keys, now)
        if credential is None:
            return
        embedded_proof = False
    else:
        report.format = "json-ld" if report.format == "unknown" else report.format
        credential = source
        embedded_proof = True
    if not _check_shape(report, credential, budget.limits):
        return
    report.credential = dict(credential)
    if not _check_context(report, credential, budget.limits):
        return
    _check_schema(report, credential)
    if embedded_proof:
        _check_proofs(report, credential, keys, budget)
    _check_dates(report, credential, now)
    _check_status(report, credential, keys, statuses, now, budget)
    if not nested:  # an endorsement's own endorsements are not followed
        _check_endorsements(report, credential, keys, statuses, now, budget)
    _note_assessment(report, credential)


def _check_shape(report: VerificationReport, credential: Mapping[str, Any], limits: VerificationLimits) -> bool:
    """Refuse, before any JSON-LD work, a credential too big or too deep to be a real one."""
    problem = json_shape(credential, limits.max_json_values, limits.max_depth)
    if problem is not None:
        report.add("format", "failed", f"The credential is not processed: {problem}", code="input_too_large")
        return False
    return True


def _decode_input(report: VerificationReport, source: Any) -> dict[str, Any] | str | None:
    if isinstance(source, Mapping):
        report.add("format", "passed", "JSON-LD credential")
        return dict(source)
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if len(data) > MAX_INPUT_BYTES:
            report.add("format", "failed", f"Input is larger than {MAX_INPUT_BYTES} bytes")
            return None
        if _looks_like_image(data):
            report.format = "png" if data.startswith(b"\x89PNG") else "svg"
            try:
                extracted = extract_baked(data)
            except VCError as err:
                report.add("baked_image", "failed", f"{err.code}: {err}")
                return None
            report.add("baked_image", "passed", f"Credential extracted from the {report.format.upper()} badge")
            return _decode_input(report, extracted)
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            report.add("format", "failed", "Input is neither a badge image nor UTF-8 text")
            return None
    if not isinstance(source, str):
        report.add("format", "failed", f"Unsupported input type {type(source).__name__}")
        return None
    if len(source) > MAX_INPUT_BYTES:
        report.add("format", "failed", f"Input is larger than {MAX_INPUT_BYTES} characters")
        return None
    text = source.strip().lstrip("\ufeff")
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as err:
            report.add("format", "failed", f"Malformed JSON: {err.msg} at line {err.lineno} column {err.colno}")
            return None
        return _decode_input(report, parsed)
    if jose.looks_like_compact_jws(text):
        report.add("format", "passed", "VC-JWT (compact JWS)")
        return text
    report.add("format", "failed", "Input is not a JSON-LD credential, a compact VC-JWT or a baked badge image")
    return None


def _looks_like_image(data: bytes) -> bool:
    """PNG signature, or XML/SVG markup: extract (and say so) rather than parse as text."""
    return data.startswith(b"\x89PNG\r\n\x1a\n") or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _verify_jwt(report: VerificationReport, token: str, keys: KeyResolver, now: datetime) -> dict[str, Any] | None:
    try:
        result = jose.verify_vc_jwt(token, keys, now=now)
    except VCError as err:
        check_id = "issuer_key" if err.code in _KEY_CODES else "jwt"
        compromised = _compromised_keys(keys, [_jwt_key_id(token)]) if check_id == "issuer_key" else []
        report.add(check_id, "failed", "; ".join(compromised) or f"{err.code}: {err}")
        return None
    report.add("jwt", "passed", f"{result.algorithm} signature valid; JWT claims match the credential")
    if result.warnings:
        report.add("jwt", "warning", "; ".join(result.warnings))
    compromised = _compromised_keys(keys, [result.verification_method])
    if compromised:
        report.add("issuer_key", "failed", "; ".join(compromised))
    else:
        report.add("issuer_key", "passed", f"Key {result.verification_method} belongs to the issuer")
    return result.credential


class _ResolvedOnce:
    """The pipeline's key resolver: each verification method is resolved once per verification
    (the issuer-key check reads the method a proof names again, to see whether it is revoked)."""

    def __init__(self, resolver: KeyResolver) -> None:
        self._resolver = resolver
        self._methods: dict[str, VerificationMethod | VCError] = {}

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        if verification_method_id not in self._methods:
            try:
                self._methods[verification_method_id] = self._resolver.resolve(verification_method_id)
            except VCError as err:
                self._methods[verification_method_id] = err
        found = self._methods[verification_method_id]
        if isinstance(found, VCError):
            raise found
        return found

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        return self._resolver.methods_of(controller)


def _jwt_key_id(token: str) -> str | None:
    """The verification method a VC-JWT's ``kid`` names (a ``#fragment`` is relative to ``iss``)."""
    try:
        header, payload = jose.decode_vc_jwt_unverified(token)
    except VCError:
        return None
    kid, iss = header.get("kid"), payload.get("iss")
    if isinstance(kid, str) and kid.startswith("#") and isinstance(iss, str):
        return iss.split("#", 1)[0] + kid
    return kid if isinstance(kid, str) else None


def _compromised_keys(keys: KeyResolver, method_ids: Iterable[str | None]) -> list[str]:
    """A ``key_compromised`` reason for each method named whose controller marks it ``revoked``.

    Controlled Identifiers 1.0 (section 2.2, ``revoked``) refuses proofs made at or after the
    revocation; a signature's own dates (``created``, ``validFrom``, ``iat``) are written by
    whoever holds the key, so a thief can backdate them: every signature is refused.
    """
    reasons = []
    for method_id in dict.fromkeys(m for m in method_ids if m):
        try:
            method = keys.resolve(method_id)
        except VCError:
            continue
        if method.revoked is not None:
            why = f" ({method.revocation_reason})" if method.revocation_reason else ""
            reasons.append(
                f"key_compromised: signed by a key the issuer reported compromised on {method.revoked}{why}: "
                f"{method_id} is not trusted for anything it signed, whatever dates it carries"
            )
    return reasons


def _check_context(report: VerificationReport, credential: Mapping[str, Any], limits: VerificationLimits) -> bool:
    contexts = credential.get("@context")
    contexts = contexts if isinstance(contexts, list) and contexts else [contexts]
    if len(contexts) > limits.max_contexts:
        report.add("context", "failed", f"{len(contexts)} contexts; at most {limits.max_contexts} are processed")
        return False
    urls = [c for c in contexts if isinstance(c, str)]
    repeated = sorted({url for url in urls if urls.count(url) > 1})
    if repeated:
        # JSON-LD 1.1 processes a repeated context again for nothing; no issuer needs it.
        report.add("context", "failed", f"@context lists {repeated[0]!r:.200} more than once", code="duplicate_context")
        return False
    if contexts[0] == CREDENTIALS_V2:
        report.add("context", "passed", "VCDM 2.0 credential")
        return True
    if contexts[0] == CREDENTIALS_V1:
        report.add(
            "context", "warning", "VCDM 1.1 credential: still accepted, but OB 3.0 issuers should move to VCDM 2.0"
        )
        return True
    report.add(
        "context", "failed", f"The first @context must be {CREDENTIALS_V2} (or {CREDENTIALS_V1}), not {contexts[0]!r}"
    )
    return False


def _check_schema(report: VerificationReport, credential: Mapping[str, Any]) -> None:
    result = openbadges.validate_credential(dict(credential))
    if result.errors:
        report.add(
            "schema",
            "failed",
            "Does not conform to the Open Badges 3.0 JSON Schema: " + "; ".join(result.errors[:5]),
            errors=list(result.errors),
        )
    elif result.warnings:
        report.add(
            "schema",
            "warning",
            "Conforms when read as JSON-LD, with deviations from the strict schema: " + "; ".join(result.warnings[:5]),
            warnings=list(result.warnings),
        )
    else:
        report.add("schema", "passed", "Conforms to the Open Badges 3.0 JSON Schema")


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """The credential's issuer id (``issuer`` may be a URL string or a Profile object)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _check_proofs(report: VerificationReport, credential: Mapping[str, Any], keys: KeyResolver, budget: Budget) -> None:
    results = data_integrity.verify_proofs(credential, keys, expected_controller=issuer_id(credential), budget=budget)
    if not results:
        report.add("proof", "failed", "The credential has no proof")
        return
    valid = [r for r in results if r.verified]
    details = {
        "proofs": [
            {"suite": r.suite, "verificationMethod": r.verification_method, "verified": r.verified, "reason": r.reason}
            for r in results
        ]
    }
    compromised = _compromised_keys(keys, [r.verification_method for r in results])
    if not valid:
        key_failures = [r for r in results if r.code in _KEY_CODES]
        if compromised or key_failures:
            report.add("issuer_key", "failed", "; ".join(compromised or [r.reason for r in key_failures]))
        report.add("proof", "failed", "; ".join(f"{r.suite}: {r.reason}" for r in results), **details)
        return
    best = next((r for r in valid if not r.deprecated), valid[0])
    others = f" ({len(results) - 1} other proof(s) in the set)" if len(results) > 1 else ""
    if best.deprecated:
        report.add(
            "proof",
            "warning",
            f"{best.reason}; {best.suite} is deprecated by Open Badges 3.0 (use eddsa-rdfc-2022){others}",
            **details,
        )
    else:
        report.add("proof", "passed", f"{best.reason}{others}", **details)
    if compromised:  # even one proof by a compromised key: the credential carries its signature
        report.add("issuer_key", "failed", "; ".join(compromised))
        return
    report.add(
        "issuer_key",
        "passed",
        f"{best.verification_method} is controlled by the issuer and listed under assertionMethod",
    )


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _XSD_DATETIME.match(value):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check_dates(report: VerificationReport, credential: Mapping[str, Any], now: datetime) -> None:
    v1 = "validFrom" not in credential and "issuanceDate" in credential
    start_name, end_name = ("issuanceDate", "expirationDate") if v1 else ("validFrom", "validUntil")
    start, end = credential.get(start_name), credential.get(end_name)
    if start is None:
        report.add("valid_from", "skipped", f"No {start_name}")
    elif (start_at := _parse_date(start)) is None:
        report.add("valid_from", "failed", f"{start_name} {start!r} is not a valid dateTime")
    elif start_at > now:
        report.add("valid_from", "failed", f"Not valid before {start}")
    else:
        report.add("valid_from", "passed", f"Valid from {start}")
    if end is None:
        report.add("valid_until", "skipped", f"No {end_name}: does not expire")
    elif (end_at := _parse_date(end)) is None:
        report.add("valid_until", "failed", f"{end_name} {end!r} is not a valid dateTime")
    elif end_at < now:
        report.add("valid_until", "failed", f"Expired on {end}")
    else:
        report.add("valid_until", "passed", f"Valid until {end}")


def _check_status(
    report: VerificationReport,
    credential: Mapping[str, Any],
    keys: KeyResolver,
    statuses: Any,
    now: datetime,
    budget: Budget,
) -> None:
    entries = credential.get("credentialStatus")
    if entries is None:
        report.add("status", "skipped", "No credentialStatus: the issuer cannot revoke it")
        return
    entries = entries if isinstance(entries, list) else [entries]
    if len(entries) > budget.limits.max_status_entries:
        report.add(
            "status", "failed", f"{len(entries)} status entries; at most {budget.limits.max_status_entries} are checked"
        )
        return
    for entry in entries:
        _check_status_entry(report, credential, entry, keys, statuses, now, budget)


def _check_status_entry(
    report: VerificationReport,
    credential: Mapping[str, Any],
    entry: Any,
    keys: KeyResolver,
    statuses: Any,
    now: datetime,
    budget: Budget,
) -> None:
    if not isinstance(entry, Mapping):
        report.add("status", "failed", "credentialStatus entry is not an object")
        return
    if revocation_list.is_revocation_list_entry(entry):
        _check_1edtech_revocation(report, credential, entry, statuses, budget)
        return
    purpose = str(entry.get("statusPurpose", "unknown"))
    check_id = f"status.{purpose}"
    if entry.get("type") != "BitstringStatusListEntry":
        report.add(check_id, "warning", f"Status type {entry.get('type')!r} is not supported; status unknown")
        return
    url = entry.get("statusListCredential")
    list_credential = _fetch_status_document(report, check_id, statuses, url, "Status list", budget)
    if list_credential is None:
        return
    problem = _status_list_problem(list_credential, credential, keys, now, budget)
    if problem:
        report.add(check_id, "failed", f"Status list {url} is not trustworthy: {problem}")
        return
    try:
        reading = status_list.read_status(entry, list_credential)
    except VCError as err:
        report.add(check_id, "failed", f"{err.code}: {err}")
        return
    reading = _with_current_value(statuses, reading, purpose)
    if not reading.is_set:
        report.add(check_id, "passed", f"Not {_past(purpose)} (index {reading.index} of {url})")
    elif purpose == "message":
        report.add(check_id, "warning", f"Status message: {reading.message}")
    else:
        message = f": {reading.message}" if reading.message else ""
        when, details = _status_date(statuses, reading.list_url, reading.index, purpose, list_credential)
        report.add(check_id, "failed", f"The issuer has {_past(purpose)} this credential{when}{message}", **details)


def _check_1edtech_revocation(
    report: VerificationReport,
    credential: Mapping[str, Any],
    entry: Mapping[str, Any],
    statuses: Any,
    budget: Budget,
) -> None:
    """OB 3.0's ``1EdTechRevocationList``: listed -> failed, not listed -> passed, unreachable -> warning."""
    check_id = "status.revocation"
    try:
        url = revocation_list.revocation_list_url(entry)
    except VCError as err:
        report.add(check_id, "failed", f"{err.code}: {err}")
        return
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        report.add(
            check_id,
            "warning",
            f"The credential has no id, so the 1EdTech revocation list {url} cannot name it; status unknown",
        )
        return
    document = _fetch_status_document(report, check_id, statuses, url, "1EdTech revocation list", budget)
    if document is None:
        return
    try:
        reading = revocation_list.read_1edtech_revocation(
            entry, document, credential_id, credential_issuer=issuer_id(credential)
        )
    except VCError as err:
        report.add(check_id, "failed", f"1EdTech revocation list {url}: {err.code}: {err}")
        return
    if reading.revoked:
        report.add(
            check_id,
            "failed",
            f"The issuer has revoked this credential (1EdTech revocation list {url})"
            + (f": {reading.reason}" if reading.reason else ""),
        )
    else:
        report.add(check_id, "passed", f"Not revoked (not listed in the 1EdTech revocation list {url})")


def _fetch_status_document(
    report: VerificationReport, check_id: str, statuses: Any, url: Any, what: str, budget: Budget
) -> Any:
    """The list document at ``url``, or None after recording a warning: a list that cannot be
    fetched leaves the status unknown, never silently passed. At most
    ``budget.limits.max_status_documents`` lists are read per verification, endorsements included."""
    if statuses is None:
        report.add(check_id, "warning", f"{what} {url} was not checked: no status list resolver")
        return None
    try:
        budget.charge_status_document()
    except VCError as err:
        report.add(check_id, "failed", f"{what} {url} was not read: {err}")
        return None
    try:
        document = statuses.resolve(url)
    except VCError as err:
        report.add(check_id, "warning", f"{what} {url} could not be fetched ({err}); status unknown")
        return None
    if document is None:
        report.add(check_id, "warning", f"{what} {url} could not be fetched; status unknown")
    return document


class CurrentStatus(Protocol):
    """Optionally implemented by a status list resolver that holds the current value of its own
    lists' entries (the issuing service's database). A change its published list does not show
    yet (lists are re-signed in batches, within their ``ttl``) then counts at once, both ways."""

    def current_status(self, list_url: str, index: int) -> int | None:
        """The entry's value now (0: not set), or None when the resolver does not know it."""
        ...


def _with_current_value(statuses: Any, reading: status_list.StatusReading, purpose: str) -> status_list.StatusReading:
    """``reading`` with its bit replaced by the resolver's current value, when it has one."""
    current = getattr(statuses, "current_status", None)
    if purpose == "message" or not callable(current):
        return reading
    value = current(reading.list_url, reading.index)
    if not isinstance(value, int) or (value != 0) == reading.is_set:
        return reading
    return dataclasses.replace(reading, value=value, is_set=value != 0)


class StatusChangeDates(Protocol):
    """Optionally implemented by a status list resolver that knows WHEN a status was set (the
    service's own lists: it recorded the change). Others only publish the bits."""

    def status_changed_at(self, list_url: str, index: int, purpose: str) -> datetime | None:
        """When the entry ``index`` of the list at ``list_url`` was last set, or None."""
        ...


def _status_date(
    statuses: Any, url: str, index: int, purpose: str, list_credential: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The date part of a "revoked"/"suspended" message, and its details, saying honestly what
    the date is: the change itself (the resolver recorded it), or only the status list's own date
    (the change happened at or before it), or nothing at all."""
    changed_at = getattr(statuses, "status_changed_at", None)
    if callable(changed_at):
        try:
            moment = changed_at(url, index, purpose)
        except Exception:
            moment = None
        if isinstance(moment, datetime):
            stamp = _xsd(moment)
            return f" on {stamp}", {"status_changed_at": stamp, "date_source": "issuer_record"}
    published = list_credential.get("validFrom") or list_credential.get("issuanceDate")
    if _parse_date(published) is not None:
        return (
            f" (as of the status list published {published}; the list does not say when the status changed)",
            {"status_as_of": published, "date_source": "status_list"},
        )
    return " (the status list gives no date)", {"date_source": "none"}


def _xsd(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _past(purpose: str) -> str:
    return {"revocation": "revoked", "suspension": "suspended"}.get(purpose, f"flagged ({purpose})")


STATUS_LIST_PROOFS = data_integrity.VerifiedProofs(maxsize=256)
"""Status list proofs this process found valid: every credential of an issuer points to the same
few lists, so each signed version of a list is canonicalised and checked once, not per credential
(the key still resolves for every verification, so a revoked key is never served from here)."""


def _status_list_problem(
    list_credential: Any, credential: Mapping[str, Any], keys: KeyResolver, now: datetime, budget: Budget
) -> str | None:
    """Why a status list credential cannot be trusted, or None.

    A status list is a credential too: its own proof and issuer are verified before any bit is
    read (Bitstring Status List v1.0, section 3.2 Validate Algorithm,
    https://www.w3.org/TR/vc-bitstring-status-list/#validate-algorithm), so a list whose bits were
    edited after signing cannot clear a revocation.
    """
    if not isinstance(list_credential, Mapping):
        return "it is not a JSON object"
    list_issuer = issuer_id(list_credential)
    if list_issuer != issuer_id(credential):
        return f"issued by {list_issuer}, not by the credential's issuer"
    shape = json_shape(list_credential, budget.limits.max_json_values, budget.limits.max_depth)
    if shape is not None:
        return f"it is not processed: {shape}"
    results = data_integrity.verify_proofs(
        list_credential, keys, expected_controller=list_issuer, budget=budget, verified_before=STATUS_LIST_PROOFS
    )
    if not any(r.verified for r in results):
        return "its proof does not verify: " + ("; ".join(r.reason for r in results) or "no proof")
    sub = VerificationReport(format="json-ld")
    _check_dates(sub, list_credential, now)
    failed = [c.reason for c in sub.checks if c.outcome == "failed"]
    return "; ".join(failed) or None


def _check_endorsements(
    report: VerificationReport,
    credential: Mapping[str, Any],
    keys: KeyResolver,
    statuses: Any,
    now: datetime,
    budget: Budget,
) -> None:
    endorsements = list(_embedded_endorsements(credential))
    if not endorsements:
        return
    if len(endorsements) > budget.limits.max_endorsements:
        report.add(
            "endorsements",
            "warning",
            f"{len(endorsements)} embedded endorsements; at most {budget.limits.max_endorsements} are checked, "
            "so none is",
        )
        return
    for i, (where, endorsement) in enumerate(endorsements):
        # The endorsements share the credential's budget (no endorsement buys more work), and
        # their own embedded endorsements are not followed.
        sub = _verify_source(endorsement, keys, statuses, now, budget, nested=True)
        if sub.verified:
            report.add(f"endorsements.{i}", "passed", f"Endorsement in {where} by {issuer_id(endorsement)} verifies")
        else:
            failed = "; ".join(f"{c.id}: {c.reason}" for c in sub.checks if c.outcome == "failed")
            report.add(
                f"endorsements.{i}", "warning", f"Endorsement in {where} does not verify and is ignored ({failed})"
            )


def _note_assessment(report: VerificationReport, credential: Mapping[str, Any]) -> None:
    """How the skill was judged (SkillCred's ``credentialSubject.assessment``), when stated: an
    ``info`` entry, not a check (the proof already covers what the credential says)."""
    statement = read_assessment(credential)
    if statement is not None:
        report.add(
            "assessment",
            "info",
            describe(statement),
            assessorKind=statement.assessor_kind,
            assessorVersion=statement.assessor_version,
            humanReviewed=statement.human_reviewed,
            decision=statement.decision,
            rubric={
                "id": statement.rubric_id,
                "name": statement.rubric_name,
                "version": statement.rubric_version,
                "hash": statement.rubric_hash,
            },
        )


def _embedded_endorsements(credential: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    def items(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value] if value else []

    holders = [("credential", credential)]
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("achievement"), Mapping):
        holders.append(("achievement", subject["achievement"]))
    if isinstance(credential.get("issuer"), Mapping):
        holders.append(("issuer", credential["issuer"]))
    for where, holder in holders:
        for endorsement in items(holder.get("endorsement")):
            if isinstance(endorsement, Mapping):
                yield where, endorsement
        for token in items(holder.get("endorsementJwt")):
            if isinstance(token, str):
                yield where, token
