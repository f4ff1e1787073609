"""The name a stored item downloads with: the uploaded name, but only an extension that names the
type the bytes were sniffed as (a text upload called ``report.hta`` downloads as ``report.txt``),
``.txt`` after types served as plain text, and no invisible formatting characters."""

from __future__ import annotations

import pytest

from service.evidence.models import EvidenceItemRecord
from service.evidence.views import download_name


def _item(file_name: str | None, media_type: str) -> EvidenceItemRecord:
    return EvidenceItemRecord(
        id="item-1", bundle_id="b", kind="file", file_name=file_name, media_type=media_type, sha256="0" * 64, size=1
    )


@pytest.mark.parametrize(
    ("file_name", "media_type", "expected"),
    [
        ("report.pdf", "application/pdf", "report.pdf"),
        ("photo.JPEG", "image/jpeg", "photo.jpeg"),
        ("notes.md", "text/markdown", "notes.md"),
        ("report.hta", "text/plain", "report.txt"),
        ("run.bat", "text/plain", "run.txt"),
        ("x.ps1", "text/plain", "x.txt"),
        ("invoice.pdf.exe", "application/pdf", "invoice.pdf.pdf"),
        ("page.html", "text/html", "page.html.txt"),
        ("logo.svg", "image/svg+xml", "logo.svg.txt"),
        ("no-extension", "application/pdf", "no-extension.pdf"),
        ("evil\u202egpj.exe", "image/png", "evilgpj.png"),
        (None, "image/png", "evidence-item-1.png"),
        (None, "application/octet-stream", "evidence-item-1.bin"),
    ],
)
def test_the_download_name_keeps_only_an_extension_that_names_the_sniffed_type(file_name, media_type, expected):
    assert download_name(_item(file_name, media_type)) == expected
