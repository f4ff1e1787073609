"""W3C Bitstring Status List v1.0: encoding, the list credential, and reading a status."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from service.vc.errors import StatusListError
from service.vc.status_list import (
    MAX_DECODED_LIST_BYTES,
    MIN_LIST_LENGTH,
    BitstringStatusList,
    MappedStatusListResolver,
    StatusListUnavailable,
    build_status_entry,
    build_status_list_credential,
    read_status,
)

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "standards"
W3C_EXAMPLES = SHARED / "examples" / "w3c-bitstring-status-list"

LIST_URL = "https://issuer.example/status/1"
ISSUER = "did:key:z6MkeVw6bAm59CopQquZcVLUpapvEEELqfpdWfHkSont8HR6"


def _multibase_gzip(raw: bytes) -> str:
    """Encode raw bytes the way a (possibly non-conforming) issuer might publish them."""
    compressed = gzip.compress(raw, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def _code_of(excinfo: pytest.ExceptionInfo[StatusListError]) -> str:
    return excinfo.value.code


def _list_credential(encoded_list: str, purpose: str | list[str] = "revocation") -> dict:
    return build_status_list_credential(
        list_id=LIST_URL,
        issuer=ISSUER,
        status_purpose=purpose,
        encoded_list=encoded_list,
        valid_from="2025-01-01T00:00:00Z",
    )


def _entry(index: int, purpose: str = "revocation", **extra: object) -> dict:
    entry = build_status_entry(list_credential_url=LIST_URL, index=index, purpose=purpose)
    entry.update(extra)
    return entry


# --- the bitstring -------------------------------------------------------------------------


def test_a_new_list_has_the_minimum_length_and_every_status_unset() -> None:
    status_list = BitstringStatusList()
    assert status_list.length == MIN_LIST_LENGTH == 131_072
    assert status_list.to_bytes() == bytes(16_384)
    assert status_list.get(0) == status_list.get(MIN_LIST_LENGTH - 1) == 0


def test_index_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    status_list = BitstringStatusList()
    status_list.set(0, 1)
    status_list.set(9, 1)
    status_list.set(MIN_LIST_LENGTH - 1, 1)
    raw = status_list.to_bytes()
    assert raw[0] == 0x80
    assert raw[1] == 0x40
    assert raw[-1] == 0x01


def test_status_size_two_packs_entries_most_significant_bit_first() -> None:
    status_list = BitstringStatusList(status_size=2)
    status_list.set(0, 0b10)
    status_list.set(1, 0b01)
    status_list.set(3, 0b11)
    assert status_list.to_bytes()[0] == 0b10_01_00_11
    assert [status_list.get(i) for i in range(4)] == [2, 1, 0, 3]
    assert len(status_list.to_bytes()) == 2 * 16_384


def test_clearing_a_status_clears_only_that_entry() -> None:
    status_list = BitstringStatusList(status_size=3)
    status_list.set(5, 0b111)
    status_list.set(6, 0b101)
    status_list.set(5, 0)
    assert (status_list.get(5), status_list.get(6)) == (0, 0b101)


def test_encoding_an_empty_list_reproduces_the_w3c_example_byte_for_byte() -> None:
    example_file = W3C_EXAMPLES / "example-3-bitstringstatuslistcredential.json"
    example = json.loads(example_file.read_text())
    assert BitstringStatusList().encode() == example["credentialSubject"]["encodedList"]


@pytest.mark.parametrize("status_size", [1, 2, 3, 8])
def test_encode_then_decode_round_trips(status_size: int) -> None:
    status_list = BitstringStatusList(status_size=status_size)
    top = (1 << status_size) - 1
    for index, value in [(0, top), (7, 1), (4_242, top), (MIN_LIST_LENGTH - 1, 1)]:
        status_list.set(index, value)
    encoded = status_list.encode()
    assert encoded.startswith("u") and "=" not in encoded
    decoded = BitstringStatusList.decode(encoded, status_size)
    assert decoded.to_bytes() == status_list.to_bytes()
    assert decoded.get(4_242) == top and decoded.get(4_243) == 0


def test_a_value_that_does_not_fit_the_status_size_is_refused() -> None:
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList(status_size=2).set(0, 4)
    assert _code_of(excinfo) == "MALFORMED_VALUE_ERROR"


@pytest.mark.parametrize("index", [-1, MIN_LIST_LENGTH])
def test_reading_outside_the_list_is_a_range_error(index: int) -> None:
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList().get(index)
    assert _code_of(excinfo) == "RANGE_ERROR"


def test_creating_a_list_shorter_than_the_minimum_is_refused() -> None:
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList(length=MIN_LIST_LENGTH - 1)
    assert _code_of(excinfo) == "STATUS_LIST_LENGTH_ERROR"


# --- decoding untrusted encodedList values ---------------------------------------------------


def test_a_decoded_list_shorter_than_the_minimum_is_refused() -> None:
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList.decode(_multibase_gzip(bytes(16_383)))
    assert _code_of(excinfo) == "STATUS_LIST_LENGTH_ERROR"


def test_the_minimum_counts_entries_so_wider_entries_need_more_bits() -> None:
    one_bit_minimum = _multibase_gzip(bytes(16_384))
    assert BitstringStatusList.decode(one_bit_minimum, 1).length == MIN_LIST_LENGTH
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList.decode(one_bit_minimum, 2)
    assert _code_of(excinfo) == "STATUS_LIST_LENGTH_ERROR"


def test_an_ecosystem_may_set_a_lower_minimum() -> None:
    assert BitstringStatusList.decode(_multibase_gzip(bytes(16)), min_length=128).length == 128


def test_a_gzip_bomb_is_refused_without_expanding_it() -> None:
    bomb = _multibase_gzip(bytes(MAX_DECODED_LIST_BYTES + 1))
    assert len(bomb) < 100_000
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList.decode(bomb)
    assert _code_of(excinfo) == "MALFORMED_VALUE_ERROR"
    assert "expands beyond" in str(excinfo.value)


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(_multibase_gzip(bytes(16_384))[1:], id="missing-u-prefix"),
        pytest.param("z" + _multibase_gzip(bytes(16_384))[1:], id="base58-prefix"),
        pytest.param(_multibase_gzip(bytes(16_384)) + "=", id="padded"),
        pytest.param("uH4sI*AAAA", id="not-base64url"),
        pytest.param("u" + base64.urlsafe_b64encode(bytes(64)).decode().rstrip("="), id="not-gzip"),
        pytest.param(_multibase_gzip(bytes(16_384))[:-8], id="truncated-gzip"),
        pytest.param("u", id="empty"),
    ],
)
def test_malformed_encoded_lists_are_refused(encoded: str) -> None:
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList.decode(encoded)
    assert _code_of(excinfo) == "MALFORMED_VALUE_ERROR"


def test_data_after_the_gzip_stream_is_refused() -> None:
    compressed = gzip.compress(bytes(16_384), mtime=0) + b"trailing"
    encoded = "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()
    with pytest.raises(StatusListError) as excinfo:
        BitstringStatusList.decode(encoded)
    assert _code_of(excinfo) == "MALFORMED_VALUE_ERROR"


# --- building credentials and entries ----------------------------------------------------------


def test_the_status_list_credential_is_an_unsigned_vcdm2_credential() -> None:
    encoded = BitstringStatusList().encode()
    credential = build_status_list_credential(
        list_id=LIST_URL,
        issuer={"id": ISSUER, "name": "SkillCred"},
        status_purpose="suspension",
        encoded_list=encoded,
        valid_from="2025-01-01T00:00:00Z",
        valid_until="2025-02-01T00:00:00Z",
        ttl_ms=300_000,
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": ISSUER, "name": "SkillCred"},
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2025-02-01T00:00:00Z",
        "credentialSubject": {
            "id": LIST_URL + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "suspension",
            "encodedList": encoded,
            "ttl": 300_000,
        },
    }


def test_a_list_credential_with_a_short_list_cannot_be_built() -> None:
    with pytest.raises(StatusListError) as excinfo:
        _list_credential(_multibase_gzip(bytes(1_024)))
    assert _code_of(excinfo) == "STATUS_LIST_LENGTH_ERROR"


def test_a_status_entry_names_its_list_and_carries_the_index_as_a_string() -> None:
    assert build_status_entry(list_credential_url=LIST_URL, index=94567, purpose="revocation") == {
        "id": LIST_URL + "#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }


def test_a_multi_bit_entry_requires_one_status_message_per_value() -> None:
    with pytest.raises(StatusListError):
        build_status_entry(list_credential_url=LIST_URL, index=1, purpose="message", status_size=2)
    with pytest.raises(StatusListError):
        build_status_entry(
            list_credential_url=LIST_URL,
            index=1,
            purpose="message",
            status_size=2,
            status_messages=[{"status": "0x0", "message": "a"}, {"status": "0x1", "message": "b"}],
        )


# --- reading a status ----------------------------------------------------------------------------


def test_the_w3c_example_list_is_exactly_the_minimum_length_and_reads_unset() -> None:
    list_credential = json.loads((W3C_EXAMPLES / "example-5-status-list-vc.eddsa-rdfc-2022.json").read_text())
    credential = json.loads((W3C_EXAMPLES / "example-4-revocable-vc.unsigned.json").read_text())
    reading = read_status(credential["credentialStatus"], list_credential)
    assert BitstringStatusList.decode(list_credential["credentialSubject"]["encodedList"]).length == MIN_LIST_LENGTH
    assert reading.purpose == "revocation"
    assert reading.index == 94567
    assert reading.list_url == "https://example.com/credentials/status/3"
    assert (reading.value, reading.is_set, reading.message) == (0, False, None)


def test_a_revoked_credential_reads_as_set() -> None:
    status_list = BitstringStatusList()
    status_list.set(94567, 1)
    reading = read_status(_entry(94567), _list_credential(status_list.encode()))
    assert (reading.value, reading.is_set, reading.message) == (1, True, None)
    assert read_status(_entry(94566), _list_credential(status_list.encode())).is_set is False


def test_a_multi_bit_status_is_read_with_its_message() -> None:
    messages = [
        {"status": "0x0", "message": "pending_review"},
        {"status": "0x1", "message": "accepted"},
        {"status": "0x2", "message": "rejected"},
        {"status": "0x3", "message": "undefined"},
    ]
    status_list = BitstringStatusList(status_size=2)
    status_list.set(492847 % MIN_LIST_LENGTH, 2)
    entry = build_status_entry(
        list_credential_url=LIST_URL,
        index=492847 % MIN_LIST_LENGTH,
        purpose="message",
        status_size=2,
        status_messages=messages,
    )
    reading = read_status(entry, _list_credential(status_list.encode(), "message"))
    assert (reading.value, reading.message, reading.is_set) == (2, "rejected", True)


def test_a_list_may_serve_several_purposes() -> None:
    list_credential = _list_credential(BitstringStatusList().encode(), ["revocation", "suspension"])
    assert read_status(_entry(3, "suspension"), list_credential).purpose == "suspension"


def test_a_purpose_the_list_does_not_serve_is_a_verification_error() -> None:
    with pytest.raises(StatusListError) as excinfo:
        read_status(_entry(3, "suspension"), _list_credential(BitstringStatusList().encode()))
    assert _code_of(excinfo) == "STATUS_VERIFICATION_ERROR"


def test_a_list_credential_with_another_id_is_a_verification_error() -> None:
    list_credential = _list_credential(BitstringStatusList().encode())
    list_credential["id"] = "https://issuer.example/status/2"
    with pytest.raises(StatusListError) as excinfo:
        read_status(_entry(3), list_credential)
    assert _code_of(excinfo) == "STATUS_VERIFICATION_ERROR"


def test_an_index_beyond_the_list_is_a_range_error() -> None:
    list_credential = _list_credential(BitstringStatusList().encode())
    for index in ("131072", "9" * 40):
        with pytest.raises(StatusListError) as excinfo:
            read_status(_entry(0, statusListIndex=index), list_credential)
        assert _code_of(excinfo) == "RANGE_ERROR"


def test_a_too_short_list_is_a_length_error_when_read() -> None:
    list_credential = _list_credential(BitstringStatusList().encode())
    list_credential["credentialSubject"]["encodedList"] = _multibase_gzip(bytes(100))
    with pytest.raises(StatusListError) as excinfo:
        read_status(_entry(3), list_credential)
    assert _code_of(excinfo) == "STATUS_LIST_LENGTH_ERROR"


@pytest.mark.parametrize(
    "change",
    [
        {"type": "StatusList2021Entry"},
        {"statusPurpose": ""},
        {"statusListIndex": 5},
        {"statusListIndex": "-5"},
        {"statusListIndex": "0x10"},
        {"statusListIndex": " 5"},
        {"statusListCredential": "not a url"},
        {"statusSize": 0},
        {"statusSize": "2"},
        {"statusSize": 2},
        {"statusMessage": [{"status": "0x0", "message": "only one"}]},
        {"statusMessage": [{"status": "0", "message": "a"}, {"status": "0x1", "message": "b"}]},
    ],
    ids=lambda change: "-".join(f"{key}={value!r}" for key, value in change.items()),
)
def test_a_malformed_entry_is_refused(change: dict) -> None:
    with pytest.raises(StatusListError) as excinfo:
        read_status(_entry(3, **change), _list_credential(BitstringStatusList().encode()))
    assert _code_of(excinfo) == "MALFORMED_VALUE_ERROR"


@pytest.mark.parametrize(
    "path, value",
    [
        (("type",), ["VerifiableCredential"]),
        (("credentialSubject", "type"), "StatusList2021"),
        (("credentialSubject", "statusPurpose"), 7),
        (("credentialSubject", "encodedList"), None),
        (("credentialSubject",), "https://issuer.example/status/1#list"),
    ],
)
def test_a_malformed_list_credential_is_refused(path: tuple[str, ...], value: object) -> None:
    list_credential = _list_credential(BitstringStatusList().encode())
    parent = list_credential
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    with pytest.raises(StatusListError) as excinfo:
        read_status(_entry(3), list_credential)
    assert _code_of(excinfo) == "MALFORMED_VALUE_ERROR"


# --- resolving lists ------------------------------------------------------------------------------


def test_the_mapped_resolver_serves_known_urls_and_reports_unknown_ones() -> None:
    list_credential = _list_credential(BitstringStatusList().encode())
    resolver = MappedStatusListResolver({LIST_URL: list_credential})
    assert resolver.resolve(LIST_URL) is list_credential
    with pytest.raises(StatusListUnavailable) as excinfo:
        resolver.resolve("https://issuer.example/status/unknown")
    assert excinfo.value.code == "STATUS_LIST_UNAVAILABLE"
    assert isinstance(excinfo.value, StatusListError)
