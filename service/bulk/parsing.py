"""Reading a bulk file: CSV with a header row, or JSON lines. Pure functions, no database.

Each data row comes back as ``(row number, fields)``: for CSV the header is row 1; for JSON lines
a row's number is its line number (blank lines are skipped but counted).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_ROWS = 100_000
MAX_BODY_BYTES = 64 * 1024 * 1024
"""The bulk route's body limit: 100,000 rows with results and evidence fit."""
BULK_PATH = "/v1/bulk/credentials"
CSV_TYPES = frozenset({"text/csv"})
JSONL_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})
CSV_COLUMNS = ("recipient_email", "recipient_did", "achievement_id", "valid_until", "external_id")


def body_limits() -> tuple[tuple[str, int], ...]:
    """``(path pattern, body limit)`` for :class:`service.api.limits.BodySizeLimit`."""
    return ((BULK_PATH, MAX_BODY_BYTES),)


class FileError(ValueError):
    """The file as a whole cannot be read (not its rows): wrong header, not UTF-8, too many rows."""


@dataclass
class ParsedFile:
    """The rows of a file, and the rows that could not even be read as records."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def media_kind(content_type: str | None) -> str | None:
    """``"csv"``, ``"jsonl"`` or None for a Content-Type header value."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base in CSV_TYPES:
        return "csv"
    if base in JSONL_TYPES:
        return "jsonl"
    return None


def parse(data: bytes, kind: str, *, defaults: dict[str, Any] | None = None) -> ParsedFile:
    """Read ``data`` as ``kind`` (``csv`` or ``jsonl``); ``defaults`` fill absent or empty fields
    (the command line's ``--achievement``). Raises :class:`FileError`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise FileError(f"the file is not UTF-8 text (byte {err.start})") from None
    parsed = ParsedFile()
    reader = _csv_rows(text) if kind == "csv" else _jsonl_rows(text)
    for number, fields, error in reader:
        if error is not None:
            parsed.errors.append((number, error))
            continue
        assert fields is not None
        for key, value in (defaults or {}).items():
            if fields.get(key) in (None, ""):
                fields[key] = value
        parsed.rows.append((number, fields))
        if len(parsed.rows) + len(parsed.errors) > MAX_ROWS:
            raise FileError(f"the file has more than {MAX_ROWS} rows")
    if not parsed.rows and not parsed.errors:
        raise FileError("the file has no rows")
    return parsed


Row = tuple[int, dict[str, Any] | None, str | None]


def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileError("the file is empty: give a header row and rows") from None
    except csv.Error as err:
        raise FileError(f"row 1: {err}") from None
    names = [name.strip() for name in header]
    unknown = [name for name in names if name not in CSV_COLUMNS]
    if unknown:
        raise FileError(f"row 1: unknown column(s) {', '.join(map(repr, unknown))}; columns: {', '.join(CSV_COLUMNS)}")
    if len(set(names)) != len(names):
        raise FileError("row 1: a column is named twice")
    number = 1
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield number, None, str(err)
            continue
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(names):
            yield number, None, f"{len(values)} fields, the header names {len(names)}"
            continue
        yield number, {n: v.strip() for n, v in zip(names, values, strict=True) if v.strip() != ""}, None


def _jsonl_rows(text: str) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as err:
            yield number, None, f"not JSON: {err.msg if isinstance(err, json.JSONDecodeError) else 'too deep'}"
            continue
        if not isinstance(value, dict):
            yield number, None, "a line must be a JSON object"
            continue
        yield number, value, None
