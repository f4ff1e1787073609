"""What makes two keyed requests "the same request": method, path, query, content type, the earner
a platform client acts for, and the body; nothing else (not the token, not the Accept header)."""

from __future__ import annotations

from service.api.idempotency import request_hash

BASE = {
    "method": "POST",
    "path": "/v1/credentials",
    "query_string": b"",
    "headers": [(b"content-type", b"application/json"), (b"authorization", b"Bearer one")],
}


def fingerprint(body: bytes = b"{}", **changes) -> str:
    return request_hash({**BASE, **changes}, body)


def test_each_part_of_the_request_changes_the_fingerprint():
    same = fingerprint()
    assert fingerprint(method="PUT") != same
    assert fingerprint(path="/v1/issuers") != same
    assert fingerprint(query_string=b"dry_run=true") != same
    assert fingerprint(headers=[(b"content-type", b"text/csv")]) != same
    assert fingerprint(headers=[*BASE["headers"], (b"on-behalf-of", b"earner-1")]) != same
    assert fingerprint(b'{"a": 1}') != same


def test_the_token_and_other_headers_do_not():
    other_headers = [(b"content-type", b"application/json"), (b"authorization", b"Bearer two"), (b"accept", b"*/*")]
    assert fingerprint(headers=other_headers) == fingerprint()


def test_parts_cannot_run_into_each_other():
    assert fingerprint(path="/v1/a", query_string=b"b") != fingerprint(path="/v1/ab", query_string=b"")
