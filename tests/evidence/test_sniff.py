"""Media types come from the bytes; a file name refines text only, never turns binary into text."""

import io
import zipfile

import pytest

from service.evidence.sniff import EXECUTABLE, UNKNOWN_BINARY, sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 10, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 10, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 10, "application/gzip"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 10, EXECUTABLE),
        (b"MZ\x90\x00" + b"\x00" * 10, EXECUTABLE),
        (b"\xcf\xfa\xed\xfe" + b"\x00" * 10, EXECUTABLE),
        (b"\x00asm\x01\x00\x00\x00", EXECUTABLE),
        (b"\x00\x01\x02\x03 binary", UNKNOWN_BINARY),
        ("héllo".encode("utf-16"), UNKNOWN_BINARY),
        (b"just some words\n", "text/plain"),
        (b'{"a": [1, 2]}', "application/json"),
        (b"{not json", "text/plain"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "text/html"),
        (b"  <script>alert(1)</script>", "text/html"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "image/svg+xml"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/svg+xml"),
        (b'<?xml version="1.0"?><note/>', "application/xml"),
    ],
)
def test_the_bytes_decide(data, expected):
    assert sniff(data).media_type == expected


def test_the_declared_name_does_not_matter_for_binary():
    assert sniff(PNG, "notes.md").media_type == "image/png"
    assert sniff(b"\x00\xff\x00 binary", "notes.md").media_type == UNKNOWN_BINARY
    assert sniff(b"\x7fELF....", "cv.pdf").media_type == EXECUTABLE


def test_markdown_and_csv_only_by_extension_and_only_when_the_bytes_are_text():
    assert sniff(b"# Title\n\nSome *text*.", "README.md").media_type == "text/markdown"
    assert sniff(b"# Title\n\nSome *text*.", "notes.txt").media_type == "text/plain"
    assert sniff(b"a,b\n1,2\n", "data.CSV").media_type == "text/csv"


def test_text_is_decoded_exactly_as_stored():
    raw = "\ufeffzero\u200bwidth <b>kept</b>\r\n".encode()
    verdict = sniff(raw)
    assert verdict.is_text and verdict.text == raw.decode("utf-8")


def test_deeply_nested_json_is_plain_text_not_a_crash():
    assert sniff(b"[" * 100_000).media_type == "text/plain"


def test_an_office_document_is_a_zip_named_by_its_extension():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    data = buffer.getvalue()
    assert sniff(data, "cv.docx").media_type.endswith("wordprocessingml.document")
    assert sniff(data, "cv.zip").media_type == "application/zip"
    assert sniff(data).media_type == "application/zip"
