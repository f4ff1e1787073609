"""The verification report in plain words: one banner (tone, headline, sentence) and each check
as a title, a symbol, a sentence and its technical detail. The reports are built with the reasons
and details :mod:`service.vc.verify` writes."""

from __future__ import annotations

from typing import Any

import pytest

from service.core.templates import render
from service.vc.report import VerificationReport
from service.web.report_view import did_web_domain, human_date, report_view, verified_domain

ISSUER_DID = "did:web:badges.example.org:issuers:acme"
KEY = f"{ISSUER_DID}#key-1"
LIST_URL = "https://badges.example.org/status/1"
DOCUMENT: dict[str, Any] = {
    "issuer": {"id": ISSUER_DID, "type": ["Profile"], "name": "SkillCred Demo Issuer"},
    "validFrom": "2026-11-28T10:00:00Z",
    "credentialSubject": {"achievement": {"name": "Python testing"}},
}


def _report(
    *, drop: tuple[str, ...] = (), extra: tuple[tuple[str, str, str, dict[str, Any]], ...] = ()
) -> VerificationReport:
    """The report of a good credential (every check passed), without the checks named in
    ``drop`` and with ``extra`` (id, outcome, reason, details) added."""
    report = VerificationReport(format="json-ld", credential=DOCUMENT)
    proofs = [{"suite": "eddsa-rdfc-2022", "verificationMethod": KEY, "verified": True, "reason": "valid"}]
    for check_id, outcome, reason, details in (
        ("format", "passed", "JSON-LD credential", {}),
        ("context", "passed", "VCDM 2.0 credential", {}),
        ("schema", "passed", "Conforms to the Open Badges 3.0 JSON Schema", {}),
        ("proof", "passed", f"eddsa-rdfc-2022 signature by {KEY} is valid", {"proofs": proofs}),
        ("issuer_key", "passed", f"{KEY} is controlled by the issuer and listed under assertionMethod", {}),
        ("valid_from", "passed", "Valid from 2026-11-28T10:00:00Z", {}),
        ("valid_until", "skipped", "No validUntil: does not expire", {}),
        ("status.revocation", "passed", f"Not revoked (index 7 of {LIST_URL})", {}),
    ):
        if check_id not in drop:
            report.add(check_id, outcome, reason, **details)  # type: ignore[arg-type]
    for check_id, outcome, reason, details in extra:
        report.add(check_id, outcome, reason, **details)  # type: ignore[arg-type]
    return report


def _title(view, title: str):
    return next(check for check in view.checks if check.title == title)


def test_a_good_credential_is_verified_in_green_naming_the_issuer_and_the_date():
    view = report_view(_report(), DOCUMENT)

    assert (view.tone, view.headline) == ("ok", "Verified")
    assert view.sentence == (
        "Issued by SkillCred Demo Issuer on 28 November 2026; checked just now: genuine, unchanged and not revoked."
    )
    assert all(check.outcome in ("passed", "skipped") for check in view.checks)


def test_the_signature_is_explained_with_the_issuer_and_where_its_key_is_published():
    view = report_view(_report(), DOCUMENT)

    signature = _title(view, "Signature")
    assert signature.symbol == "✔"
    assert signature.sentence.startswith(
        "Signed by SkillCred Demo Issuer, whose key is published at https://badges.example.org/issuers/acme/did.json"
    )
    assert "eddsa-rdfc-2022" not in signature.sentence and "eddsa-rdfc-2022" in signature.detail
    key = _title(view, "Issuer's key")
    assert "https://badges.example.org/issuers/acme/did.json" in key.sentence
    assert "did:web" not in key.sentence and KEY in key.detail


def test_no_check_sentence_is_developer_jargon():
    report = _report()
    view = report_view(report, DOCUMENT)

    for check, shown in zip(report.checks, view.checks, strict=True):
        for jargon in ("did:web", "eddsa", "index 7", "issuer_key", "VCDM", "credentialStatus"):
            assert jargon not in shown.sentence, (shown.title, jargon)
        assert shown.detail.startswith(f"{check.id}: {check.outcome}\n{check.reason}")  # the technical detail


def test_an_unreachable_status_list_is_a_warning_in_amber_not_a_red_failure():
    report = _report(
        drop=("status.revocation",),
        extra=(("status.revocation", "warning", f"Status list {LIST_URL} could not be fetched; status unknown", {}),),
    )

    view = report_view(report, DOCUMENT)

    assert (view.tone, view.headline) == ("warn", "Verified with warnings")
    assert "could not be reached just now" in view.sentence
    assert view.sentence.startswith("Issued by SkillCred Demo Issuer on 28 November 2026 and genuine, but the issuer")
    assert _title(view, "Not revoked").symbol == "!"


def test_several_warnings_are_counted_in_the_banner():
    report = _report(
        drop=("status.revocation", "context"),
        extra=(
            ("context", "warning", "VCDM 1.1 credential: still accepted, but ...", {}),
            ("status.revocation", "warning", f"Status list {LIST_URL} could not be fetched; status unknown", {}),
        ),
    )

    view = report_view(report, DOCUMENT)

    assert (view.tone, view.headline) == ("warn", "Verified with warnings")
    assert "2 points could not be confirmed" in view.sentence


def test_a_revoked_credential_says_so_and_when():
    reason = "The issuer has revoked this credential on 2026-12-03T09:30:00Z"
    report = _report(
        drop=("status.revocation",),
        extra=(
            (
                "status.revocation",
                "failed",
                reason,
                {"status_changed_at": "2026-12-03T09:30:00Z", "date_source": "issuer_record"},
            ),
        ),
    )

    view = report_view(report, DOCUMENT)

    assert (view.tone, view.headline) == ("bad", "Revoked")
    assert view.sentence == "SkillCred Demo Issuer revoked this credential on 3 December 2026."
    assert _title(view, "Not revoked").symbol == "✘"


def test_a_revocation_only_dated_by_its_status_list_says_on_or_before():
    report = _report(
        drop=("status.revocation",),
        extra=(
            (
                "status.revocation",
                "failed",
                "The issuer has revoked this credential (as of the status list published 2026-12-05T00:00:00Z; ...)",
                {"status_as_of": "2026-12-05T00:00:00Z", "date_source": "status_list"},
            ),
        ),
    )

    assert report_view(report, DOCUMENT).sentence == (
        "SkillCred Demo Issuer revoked this credential on or before 5 December 2026 (the date of its status list)."
    )


def test_a_suspended_credential_is_suspended():
    report = _report(
        extra=(
            (
                "status.suspension",
                "failed",
                "The issuer has suspended this credential on 2026-12-04T00:00:00Z",
                {"status_changed_at": "2026-12-04T00:00:00Z", "date_source": "issuer_record"},
            ),
        )
    )

    view = report_view(report, DOCUMENT)

    assert (view.tone, view.headline) == ("bad", "Suspended")
    assert view.sentence == "SkillCred Demo Issuer suspended this credential on 4 December 2026."


def test_an_expired_credential_is_expired_with_its_date():
    report = _report(drop=("valid_until",), extra=(("valid_until", "failed", "Expired on 2026-12-01T00:00:00Z", {}),))

    view = report_view(report, DOCUMENT)

    assert (view.tone, view.headline) == ("bad", "Expired")
    assert view.sentence == "This credential expired on 1 December 2026."


def test_a_tampered_credential_is_not_verified_and_says_why_in_plain_words():
    report = _report(
        drop=("proof", "issuer_key"),
        extra=(("proof", "failed", "eddsa-rdfc-2022: signature does not verify", {"proofs": []}),),
    )

    view = report_view(report, DOCUMENT)

    assert (view.tone, view.headline) == ("bad", "Not verified")
    assert view.sentence.startswith("The signature does not match: the credential was changed after it was signed")
    assert "signature does not verify" in _title(view, "Signature").detail


def test_a_forgery_that_is_also_revoked_is_not_verified_first():
    report = _report(
        drop=("proof", "issuer_key", "status.revocation"),
        extra=(
            ("proof", "failed", "eddsa-rdfc-2022: signature does not verify", {}),
            ("status.revocation", "failed", "The issuer has revoked this credential", {"date_source": "none"}),
        ),
    )

    assert report_view(report, DOCUMENT).headline == "Not verified"


def test_an_unreadable_input_is_not_verified():
    report = VerificationReport(format="unknown")
    report.add("format", "failed", "Input is not a JSON-LD credential, a compact VC-JWT or a baked badge image")

    view = report_view(report)

    assert (view.tone, view.headline) == ("bad", "Not verified")
    assert "not a credential this page can read" in view.sentence


def test_a_compromised_key_is_not_verified():
    report = _report(
        drop=("issuer_key",),
        extra=(
            (
                "issuer_key",
                "failed",
                f"key_compromised: signed by a key the issuer reported compromised on ...: {KEY}",
                {},
            ),
        ),
    )

    view = report_view(report, DOCUMENT)

    assert view.headline == "Not verified"
    assert "reported the signing key as compromised" in view.sentence


def test_the_assessment_note_is_plain_words_without_reviewers():
    report = _report(
        extra=(
            (
                "assessment",
                "info",
                "Assessed by offline (1.0.0) against rubric Python testing v3; reviewed by a human: yes",
                {
                    "assessorKind": "llm",
                    "assessorVersion": "2.1",
                    "humanReviewed": True,
                    "decision": "approved",
                    "rubric": {"id": "python-testing", "name": "Python testing", "version": "3", "hash": "sha256:x"},
                },
            ),
        )
    )

    view = report_view(report, DOCUMENT)

    note = _title(view, "How it was assessed")
    assert (note.outcome, note.symbol) == ("info", "i")
    assert "AI language model" in note.sentence and "reviewed by a person at the issuer" in note.sentence
    assert "\u201cPython testing\u201d (version 3)" in note.sentence
    assert view.headline == "Verified"  # a note is not a warning


def test_the_verified_domain_is_the_did_web_host_of_the_key_that_verified():
    assert verified_domain(_report()) == "badges.example.org"
    assert did_web_domain("did:web:localhost%3A8000:issuers:x#k") == "localhost:8000"
    assert did_web_domain("did:key:z6Mk") is None
    tampered = _report(drop=("issuer_key",), extra=(("issuer_key", "failed", "controller mismatch", {}),))
    assert verified_domain(tampered) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-12-03T09:30:00Z", "3 December 2026"), ("2026-12-03T23:30:00-05:00", "4 December 2026"), ("soon", None)],
)
def test_dates_read_as_words_in_utc(value, expected):
    assert human_date(value) == expected


def test_the_partial_renders_the_banner_and_folds_the_detail():
    html = render("_report.html", report_view=report_view(_report(), DOCUMENT))

    assert '<div class="banner ok" role="status">' in html
    assert "Verified" in html and "How was this checked" in html
    assert html.count("<details>") == len(_report().checks)
    assert "eddsa-rdfc-2022" in html.split("<details>", 1)[1]  # only inside the folded detail


def test_the_partial_escapes_what_the_credential_says():
    document = {**DOCUMENT, "issuer": {"id": ISSUER_DID, "name": "<script>alert(1)</script>"}}

    html = render("_report.html", report_view=report_view(_report(), document))

    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
