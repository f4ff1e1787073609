"""A verification report in plain words, for people: one banner and one line per check.

:class:`~service.vc.report.VerificationReport` speaks to developers (``issuer_key``,
``eddsa-rdfc-2022``, status list indexes). :func:`report_view` turns it into what a client reads on
the badge page and on the verify page: a tone (green, amber, red), a headline ("Verified",
"Verified with warnings", "Revoked", "Suspended", "Expired", "Not verified"), one sentence saying
why and when, and each check as a title, a symbol, a sentence and the technical detail (folded away
by the template ``_report.html``). Red is only for a real failure: a warning is amber.

Everything here reads untrusted JSON (the credential may come from anyone on the verify page), so
it only ever produces text; the templates escape it. Pure: no FastAPI, no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from service.vc.did import did_web_document_url
from service.vc.errors import VCError
from service.vc.report import Check, VerificationReport
from service.vc.skillcred import AssessmentStatement, read_assessment

SYMBOLS = {"passed": "\u2714", "failed": "\u2718", "warning": "!", "skipped": "\u2013", "info": "i"}
"""The text symbol shown beside each outcome's word (colour is never the only signal)."""

TONE_SYMBOLS = {"ok": "\u2714", "warn": "!", "bad": "\u2718"}
"""The symbol of the banner for each tone."""

_INTEGRITY = ("format", "baked_image", "jwt", "context", "schema", "proof", "issuer_key")
_KEY_IN_REASON = re.compile(r"^(?:Key )?(\S+) (?:belongs to|is controlled by) the issuer")


@dataclass(frozen=True)
class CheckView:
    """One check in plain words."""

    title: str
    outcome: str
    symbol: str
    sentence: str
    detail: str


@dataclass(frozen=True)
class ReportView:
    """The whole report in plain words: the banner's tone, headline and sentence, and the checks."""

    tone: str
    headline: str
    sentence: str
    checks: tuple[CheckView, ...]


def report_view(report: VerificationReport, document: dict[str, Any] | None = None) -> ReportView:
    """``report`` for people. ``document`` is the parsed credential when the caller has it (the
    report's own copy is used otherwise) and names the issuer and the dates."""
    credential = document if isinstance(document, dict) else report.credential
    facts = _Facts.of(credential if isinstance(credential, Mapping) else {}, report)
    checks = tuple(_check_view(check, facts) for check in report.checks)
    tone, headline, sentence = _banner(report, facts, checks)
    return ReportView(tone=tone, headline=headline, sentence=sentence, checks=checks)


def verified_key(report: VerificationReport) -> str | None:
    """The verification method (key id) whose signature verified, when one did."""
    check = report.check("proof")
    if check is not None and check.outcome in ("passed", "warning"):
        for proof in check.details.get("proofs", []) or []:
            if (
                isinstance(proof, Mapping)
                and proof.get("verified")
                and isinstance(proof.get("verificationMethod"), str)
            ):
                return str(proof["verificationMethod"])
    key_check = report.check("issuer_key")
    if key_check is not None and key_check.outcome == "passed":
        found = _KEY_IN_REASON.match(key_check.reason)
        if found:
            return found.group(1)
    return None


def verified_domain(report: VerificationReport) -> str | None:
    """The web domain (host, with a port when there is one) that publishes the issuer's key, when
    the key that verified is a ``did:web`` one and the issuer key check passed."""
    key_check = report.check("issuer_key")
    key = verified_key(report)
    if key_check is None or key_check.outcome != "passed" or key is None:
        return None
    return did_web_domain(key)


def did_web_domain(did: str) -> str | None:
    """``did:web:example.org%3A8443:issuers:x#key-1`` -> ``example.org:8443``; None for other DIDs."""
    if not did.startswith("did:web:"):
        return None
    host = unquote(did.removeprefix("did:web:").split("#", 1)[0].split(":", 1)[0])
    return host or None


def human_date(value: Any) -> str | None:
    """An ISO 8601 date-time as "3 December 2026" (UTC), or None when it is not one."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


def assessment_sentence(statement: AssessmentStatement) -> str:
    """How the skill was judged, in one plain sentence (never who reviewed it)."""
    rubric = statement.rubric_name or statement.rubric_id or "the achievement's rubric"
    version = f" (version {statement.rubric_version})" if statement.rubric_version else ""
    assessed = human_date(statement.assessed_at)
    when = f" on {assessed}" if assessed else ""
    sentence = (
        f"The evidence was judged against the rubric \u201c{rubric}\u201d{version} by {_assessor(statement)}{when}"
    )
    if statement.human_reviewed:
        reviewed = human_date(statement.reviewed_at)
        sentence += ", then reviewed by a person at the issuer" + (f" on {reviewed}" if reviewed else "")
        if statement.decision == "approved":
            sentence += " who approved it"
    elif statement.decision == "auto_issue":
        sentence += "; its result met the issuer's policy for issuing without a human review"
    return sentence + "."


def _assessor(statement: AssessmentStatement) -> str:
    kinds = {
        "offline": "SkillCred's automatic rule-based assessor",
        "llm": "an AI language model (AI-assisted assessment)",
        "human": "a person",
    }
    name = kinds.get(statement.assessor_kind, f"an assessor of kind \u201c{statement.assessor_kind}\u201d")
    return f"{name}, version {statement.assessor_version}" if statement.assessor_version else name


# --- what the sentences name ------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    issuer: str
    issued: str | None
    key: str | None
    key_url: str | None

    @classmethod
    def of(cls, credential: Mapping[str, Any], report: VerificationReport) -> _Facts:
        issuer = credential.get("issuer")
        name = issuer.get("name") if isinstance(issuer, Mapping) else None
        issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        label = name if isinstance(name, str) and name.strip() else issuer_id if isinstance(issuer_id, str) else ""
        issued = human_date(credential.get("validFrom") or credential.get("issuanceDate"))
        key = verified_key(report)
        key_url = None
        if key is not None and key.startswith("did:web:"):
            try:
                key_url = did_web_document_url(key.split("#", 1)[0])
            except VCError:
                key_url = None
        return cls(issuer=label or "the issuer", issued=issued, key=key, key_url=key_url)


# --- one check --------------------------------------------------------------------------------


def _check_view(check: Check, facts: _Facts) -> CheckView:
    title, sentence = _words(check, facts)
    return CheckView(
        title=title,
        outcome=check.outcome,
        symbol=SYMBOLS.get(check.outcome, "?"),
        sentence=sentence,
        detail=_detail(check),
    )


def _detail(check: Check) -> str:
    """The technical detail: the check's id, outcome and reason, then its details."""
    lines = [f"{check.id}: {check.outcome}", check.reason]
    for key, value in check.details.items():
        if key == "proofs" and isinstance(value, list):
            for proof in value:
                if isinstance(proof, Mapping):
                    lines.append(
                        f"proof: {proof.get('suite')} by {proof.get('verificationMethod')}, "
                        f"{'valid' if proof.get('verified') else 'not valid'} ({proof.get('reason')})"
                    )
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def _words(check: Check, facts: _Facts) -> tuple[str, str]:
    """(title, sentence) of a check, by its id."""
    base = check.id.split(".", 1)[0]
    words = _WORDS.get(base)
    if words is None:
        return check.id, check.reason
    return words(check, facts)


def _format(check: Check, facts: _Facts) -> tuple[str, str]:
    if check.outcome == "passed":
        kind = "a signed web token (VC-JWT)" if "JWT" in check.reason else "JSON-LD"
        return "Readable credential", f"This is a credential in {kind}, a form this page can read."
    return "Readable credential", "This is not a credential this page can read, so nothing else could be checked."


def _baked(check: Check, facts: _Facts) -> tuple[str, str]:
    if check.outcome == "passed":
        return "Badge image", "The credential was read from inside the badge image, where the issuer placed it."
    return "Badge image", "No readable credential was found inside this image."


def _signed_by(facts: _Facts) -> str:
    if facts.key_url:
        return f"Signed by {facts.issuer}, whose key is published at {facts.key_url}."
    return f"Signed by {facts.issuer}."


def _jwt(check: Check, facts: _Facts) -> tuple[str, str]:
    if check.outcome == "passed":
        return "Signature", _signed_by(facts)[:-1] + "; nothing has changed since it was signed."
    if check.outcome == "warning":
        return "Signature details", "The signature is valid, but some details of the token do not follow the standard."
    return "Signature", "The signature does not match: the credential was changed after it was signed, or not signed."


def _context(check: Check, facts: _Facts) -> tuple[str, str]:
    title = "Credential standard"
    if check.outcome == "passed":
        return title, "Written to the W3C Verifiable Credentials 2.0 standard."
    if check.outcome == "warning":
        return title, "Written to the older Verifiable Credentials 1.1 standard: still accepted."
    return title, "Not written to a Verifiable Credentials standard this page knows."


def _schema(check: Check, facts: _Facts) -> tuple[str, str]:
    title = "Open Badges structure"
    if check.outcome == "passed":
        return title, "Has every part an Open Badges 3.0 credential must have."
    if check.outcome == "warning":
        return title, "Differs slightly from the strict Open Badges 3.0 form, but reads correctly."
    return title, "Does not have the structure an Open Badges 3.0 credential must have."


def _proof(check: Check, facts: _Facts) -> tuple[str, str]:
    if check.outcome == "passed":
        return "Signature", _signed_by(facts)[:-1] + "; nothing has changed since it was signed."
    if check.outcome == "warning":
        return "Signature", f"Signed by {facts.issuer} with an older signature method Open Badges 3.0 deprecates."
    if check.reason == "The credential has no proof":
        return "Signature", "The credential carries no signature, so anyone could have written it."
    return (
        "Signature",
        "The signature does not match: the credential was changed after it was signed, "
        "or it was not signed by its issuer.",
    )


def _issuer_key(check: Check, facts: _Facts) -> tuple[str, str]:
    title = "Issuer's key"
    if check.outcome == "passed":
        if facts.key_url:
            return title, f"The signing key belongs to {facts.issuer}, which publishes it at {facts.key_url}."
        if facts.key and facts.key.startswith("did:key:"):
            return title, f"The signing key is {facts.issuer}'s own identifier (a did:key), so it is theirs."
        return title, f"The signing key belongs to {facts.issuer}."
    if "key_compromised" in check.reason:
        return title, f"{facts.issuer} reported the signing key as compromised, so nothing it signed can be trusted."
    return title, f"The signing key could not be shown to belong to {facts.issuer}."


def _valid_from(check: Check, facts: _Facts) -> tuple[str, str]:
    title = "Issue date"
    when = human_date(check.reason.rsplit(" ", 1)[-1])
    if check.outcome == "passed":
        return title, f"Valid since {when}." if when else "Valid now."
    if check.outcome == "skipped":
        return title, "The credential gives no date from which it is valid."
    if when and check.reason.startswith("Not valid before"):
        return title, f"Not valid until {when}."
    return title, "Its start date is not a valid date."


def _valid_until(check: Check, facts: _Facts) -> tuple[str, str]:
    title = "Expiry"
    when = human_date(check.reason.rsplit(" ", 1)[-1])
    if check.outcome == "passed":
        return title, f"Valid until {when}." if when else "Not expired."
    if check.outcome == "skipped":
        return title, "Does not expire."
    if when and check.reason.startswith("Expired on"):
        return title, f"Expired on {when}."
    return title, "Its expiry date is not a valid date."


def _status(check: Check, facts: _Facts) -> tuple[str, str]:
    purpose = check.id.split(".", 1)[1] if "." in check.id else ""
    if purpose == "message":
        message = check.reason.removeprefix("Status message: ")
        if check.outcome == "warning":
            return "Issuer's note", f"The issuer attached a status message: \u201c{message}\u201d"
        return "Issuer's note", "The issuer has attached no status message."
    word = {"revocation": "revoked", "suspension": "suspended"}.get(purpose)
    title = f"Not {word}" if word else "Revocation"
    if check.outcome == "passed":
        return title, f"Checked just now: the issuer has not {word or 'flagged'} this credential."
    if check.outcome == "skipped":
        return title, "The issuer cannot revoke this credential (it names no status list)."
    if check.outcome == "warning":
        if "not supported" in check.reason:
            return title, "The issuer uses a kind of status list this page cannot read, so the status is unknown."
        return title, "The issuer's status list could not be reached just now, so the status is unknown."
    if _is_revoked(check):
        return title, _revoked_sentence(check, facts)
    return title, "The issuer's status list could not be trusted, so the status is unknown."


def _endorsement(check: Check, facts: _Facts) -> tuple[str, str]:
    title = "Endorsement"
    match = re.match(r"Endorsement in \S+ by (\S+) verifies", check.reason)
    if check.outcome == "passed":
        by = f" by {match.group(1)}" if match else ""
        return title, f"The endorsement{by} carries a valid signature."
    if "at most" in check.reason:
        return "Endorsements", "There are too many endorsements to check, so none is shown as verified."
    return title, "An endorsement does not verify, so it is ignored."


def _assessment(check: Check, facts: _Facts) -> tuple[str, str]:
    details = check.details
    found = details.get("rubric")
    rubric: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    statement = read_assessment(
        {
            "credentialSubject": {
                "assessment": {
                    "type": "SkillCredAssessment",
                    "assessorKind": details.get("assessorKind"),
                    "assessorVersion": details.get("assessorVersion"),
                    "humanReviewed": details.get("humanReviewed"),
                    "decision": details.get("decision"),
                    "rubric": {
                        "rubricId": rubric.get("id"),
                        "name": rubric.get("name"),
                        "rubricVersion": rubric.get("version"),
                    },
                }
            }
        }
    )
    return "How it was assessed", assessment_sentence(statement) if statement else check.reason


_WORDS = {
    "format": _format,
    "baked_image": _baked,
    "jwt": _jwt,
    "context": _context,
    "schema": _schema,
    "proof": _proof,
    "issuer_key": _issuer_key,
    "valid_from": _valid_from,
    "valid_until": _valid_until,
    "status": _status,
    "endorsements": _endorsement,
    "assessment": _assessment,
}


# --- the banner -------------------------------------------------------------------------------


def _is_revoked(check: Check) -> bool:
    """A status check that failed because the issuer set the credential's status (not because the
    list could not be read or trusted)."""
    return check.outcome == "failed" and check.id.startswith("status.") and check.reason.startswith("The issuer has ")


def _revoked_sentence(check: Check, facts: _Facts) -> str:
    word = "suspended" if check.id == "status.suspension" else "revoked"
    who = _capitalised(facts.issuer)
    changed = human_date(check.details.get("status_changed_at"))
    if changed:
        return f"{who} {word} this credential on {changed}."
    as_of = human_date(check.details.get("status_as_of"))
    if as_of:
        return f"{who} {word} this credential on or before {as_of} (the date of its status list)."
    return f"{who} {word} this credential."


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _continued(sentence: str) -> str:
    """A sentence continuing another: its first word lower-cased unless it is a name ("SkillCred")."""
    if len(sentence) > 1 and sentence[0].isupper() and sentence[1].islower():
        return sentence[0].lower() + sentence[1:]
    return sentence


def _banner(report: VerificationReport, facts: _Facts, views: tuple[CheckView, ...]) -> tuple[str, str, str]:
    failed = [(c, v) for c, v in zip(report.checks, views, strict=True) if c.outcome == "failed"]
    if report.credential is None or not report.checks:
        reason = failed[0][1].sentence if failed else "No credential was found to check."
        return "bad", "Not verified", reason
    fatal = [(c, v) for c, v in failed if not _is_revoked(c) and c.id != "valid_until"]
    if fatal:
        return "bad", "Not verified", fatal[0][1].sentence
    for purpose, headline in (("status.revocation", "Revoked"), ("status.suspension", "Suspended")):
        for check, view in failed:
            if check.id == purpose:
                return "bad", headline, view.sentence
    for check, view in failed:
        if _is_revoked(check):  # another purpose the issuer set
            return "bad", "Revoked", view.sentence
        if check.id == "valid_until":
            return "bad", "Expired", "This credential " + _continued(view.sentence)
    issued = f" on {facts.issued}" if facts.issued else ""
    warnings = [v for v in views if v.outcome == "warning"]
    if len(warnings) == 1:
        return (
            "warn",
            "Verified with warnings",
            f"Issued by {facts.issuer}{issued} and genuine, but {_continued(warnings[0].sentence)}",
        )
    if warnings:
        return (
            "warn",
            "Verified with warnings",
            f"Issued by {facts.issuer}{issued} and genuine, but {len(warnings)} points "
            "could not be confirmed (listed below).",
        )
    status_checked = any(c.id.startswith("status") and c.outcome == "passed" for c in report.checks)
    state = "genuine, unchanged and not revoked" if status_checked else "genuine and unchanged"
    return "ok", "Verified", f"Issued by {facts.issuer}{issued}; checked just now: {state}."
