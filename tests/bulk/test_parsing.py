"""Reading bulk files: row numbers as in the file, and the limits."""

from __future__ import annotations

import pytest

from service.bulk import parsing


def test_csv_rows_are_numbered_from_the_header_and_blank_cells_are_absent():
    parsed = parsing.parse(
        b"recipient_email,achievement_id,valid_until\na@x.org,A1,\n\nb@x.org,A1,2030-01-01Z\n", "csv"
    )
    assert [number for number, _ in parsed.rows] == [2, 4]
    assert parsed.rows[0][1] == {"recipient_email": "a@x.org", "achievement_id": "A1"}


def test_defaults_fill_only_missing_fields():
    parsed = parsing.parse(
        b"recipient_email,achievement_id\na@x.org,\nb@x.org,OWN\n", "csv", defaults={"achievement_id": "D"}
    )
    assert [fields["achievement_id"] for _, fields in parsed.rows] == ["D", "OWN"]


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (b"email,achievement_id\n", "csv", "unknown column"),
        (b"", "csv", "empty"),
        (b"\xff\xfe", "jsonl", "UTF-8"),
        (b"\n\n", "jsonl", "no rows"),
    ],
)
def test_an_unreadable_file_is_refused_as_a_whole(data, kind, message):
    with pytest.raises(parsing.FileError, match=message):
        parsing.parse(data, kind)


def test_more_rows_than_the_limit_are_refused(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 3)
    with pytest.raises(parsing.FileError, match="more than 3 rows"):
        parsing.parse(b"".join(b'{"achievement_id": "A"}\n' for _ in range(4)), "jsonl")


def test_a_line_that_is_not_a_json_object_is_a_row_error():
    parsed = parsing.parse(b'{"achievement_id": "A"}\n[1]\n{oops\n', "jsonl")
    assert [number for number, _ in parsed.rows] == [1]
    assert [number for number, _ in parsed.errors] == [2, 3]


def test_media_types():
    assert parsing.media_kind("text/csv; charset=utf-8") == "csv"
    assert parsing.media_kind("application/x-ndjson") == "jsonl"
    assert parsing.media_kind("application/jsonl") == "jsonl"
    assert parsing.media_kind("application/json") is None
