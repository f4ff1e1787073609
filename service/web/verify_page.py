"""The verify page (``/verify``): a form for a badge URL, a pasted credential or token, or a badge
image or credential file, and the result of verifying it: the same plain-words report as the
badge page (:func:`service.web.report_view.report_view`) with what the credential claims. No
FastAPI here."""

from __future__ import annotations

from service.core.config import Settings
from service.core.templates import render
from service.vc.report import VerificationReport
from service.web.claims_view import claims_view
from service.web.report_view import report_view

ECHO_LIMIT = 64 * 1024
"""Pasted text longer than this is not put back into the form after an error."""


def human_size(size: int) -> str:
    """Bytes as ``8 MiB``, ``256 KiB`` or ``900 bytes``."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value.is_integer() or value >= 10 else f"{value:.1f} {unit}"
    return f"{size} bytes"


def render_verify_page(
    settings: Settings, *, text: str = "", error: str | None = None, report: VerificationReport | None = None
) -> str:
    """The page: the form (with ``text`` put back and ``error`` shown, if any) and, after a
    verification, its ``report`` in plain words and the credential's claims."""
    context: dict[str, object] = {
        "text": text if len(text) <= ECHO_LIMIT else "",
        "error": error,
        "max_upload_bytes": settings.max_upload_bytes,
        "max_upload_text": human_size(settings.max_upload_bytes),
        "result": report is not None,
    }
    if report is not None:
        context["report_view"] = report_view(report)
        context["claims"] = claims_view(report.credential)
        context["verified"] = report.verified
    return render("verify.html", **context)


def too_large_message(settings: Settings) -> str:
    """What the page says about a file over the upload limit."""
    return (
        f"The file is larger than {human_size(settings.max_upload_bytes)}, the most this page accepts. "
        "A badge image or credential is much smaller: check that this is the right file."
    )
