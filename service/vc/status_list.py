"""W3C Bitstring Status List v1.0: the bitstring, the status list credential, and reading a status.

A status list is a bitstring in which entry ``i`` occupies the ``statusSize`` bits starting at
bit ``i * statusSize``; bit 0 is the leftmost (most significant) bit of the first byte, and a
multi-bit entry is read most significant bit first. It travels as
``"u" + base64url_nopad(gzip(bitstring))`` (multibase base64url) in the ``encodedList`` of a
``BitstringStatusListCredential``.

Errors are :class:`~service.vc.errors.StatusListError` with the spec's error names as ``code``:
``MALFORMED_VALUE_ERROR``, ``STATUS_LIST_LENGTH_ERROR``, ``RANGE_ERROR``,
``STATUS_VERIFICATION_ERROR``; :class:`StatusListUnavailable` when a list cannot be obtained.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from service.vc.errors import StatusListError

MIN_LIST_LENGTH = 131_072
"""Minimum number of entries in a list (the spec's herd-privacy bound; 16 KiB at 1 bit each)."""

MAX_DECODED_LIST_BYTES = 16 * 1024 * 1024
"""Largest uncompressed bitstring accepted when decoding (zip-bomb guard)."""

MAX_ENCODED_LIST_CHARS = 24 * 1024 * 1024
"""Largest ``encodedList`` string accepted (room for an incompressible 16 MiB bitstring)."""

MAX_STATUS_SIZE = 16
"""Largest ``statusSize`` this implementation reads (``statusMessage`` needs 2**size items)."""

GZIP_LEVEL = 6
"""Level 9 is pathologically slow on sparse lists for no gain; 6 matches the W3C example."""

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

MALFORMED_VALUE_ERROR = "MALFORMED_VALUE_ERROR"
STATUS_LIST_LENGTH_ERROR = "STATUS_LIST_LENGTH_ERROR"
RANGE_ERROR = "RANGE_ERROR"
STATUS_VERIFICATION_ERROR = "STATUS_VERIFICATION_ERROR"

_BASE64URL_NOPAD = re.compile(r"[A-Za-z0-9_-]*")
_DECIMAL_INDEX = re.compile(r"[0-9]+")
_HEX_STATUS = re.compile(r"0x[0-9a-fA-F]+")
_ABSOLUTE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_MAX_INDEX_DIGITS = 18  # far beyond any index a capped list can hold; avoids huge int parsing


class StatusListUnavailable(StatusListError):
    """A status list credential could not be obtained (the spec's STATUS_RETRIEVAL_ERROR case).

    A verifier reports this as a warning, not as a revocation: the status is unknown.
    """

    code = "STATUS_LIST_UNAVAILABLE"


def _malformed(message: str) -> StatusListError:
    return StatusListError(message, code=MALFORMED_VALUE_ERROR)


def _is_non_negative_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_url(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _ABSOLUTE_URL.fullmatch(value) is not None


def _check_status_size(status_size: object) -> int:
    if not isinstance(status_size, int) or isinstance(status_size, bool) or status_size < 1:
        raise _malformed(f"statusSize must be an integer greater than zero, got {status_size!r}")
    if status_size > MAX_STATUS_SIZE:
        raise _malformed(f"statusSize {status_size} exceeds the supported {MAX_STATUS_SIZE}")
    return status_size


class BitstringStatusList:
    """A mutable status bitstring of ``length`` entries, each ``status_size`` bits wide.

    The length is rounded up so that the bitstring fills whole bytes; :attr:`length` reports the
    number of entries the bytes hold. Lists shorter than :data:`MIN_LIST_LENGTH` are refused.
    """

    def __init__(self, length: int = MIN_LIST_LENGTH, status_size: int = 1) -> None:
        self._status_size = _check_status_size(status_size)
        if not _is_non_negative_int(length):
            raise _malformed(f"list length must be an integer, got {length!r}")
        if length < MIN_LIST_LENGTH:
            raise StatusListError(
                f"a status list needs at least {MIN_LIST_LENGTH} entries, got {length}",
                code=STATUS_LIST_LENGTH_ERROR,
            )
        self._bits = bytearray(-(-length * status_size // 8))

    @property
    def length(self) -> int:
        """Number of entries (not bits) in the list."""
        return len(self._bits) * 8 // self._status_size

    @property
    def status_size(self) -> int:
        """Width of each entry in bits."""
        return self._status_size

    def _first_bit(self, index: int) -> int:
        if not isinstance(index, int) or isinstance(index, bool):
            raise _malformed(f"status list index must be an integer, got {index!r}")
        if not 0 <= index < self.length:
            raise StatusListError(f"index {index} is outside the list (0..{self.length - 1})", code=RANGE_ERROR)
        return index * self._status_size

    def get(self, index: int) -> int:
        """Return the status value at entry ``index`` (0 .. 2**status_size - 1)."""
        first = self._first_bit(index)
        value = 0
        for bit in range(first, first + self._status_size):
            value = (value << 1) | ((self._bits[bit >> 3] >> (7 - (bit & 7))) & 1)
        return value

    def set(self, index: int, value: int) -> None:
        """Set entry ``index`` to ``value``, which must fit in ``status_size`` bits."""
        first = self._first_bit(index)
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or not 0 <= value < (1 << self._status_size):
            raise _malformed(f"status value {value!r} does not fit in {self._status_size} bit(s)")
        for offset in range(self._status_size):
            bit = first + offset
            mask = 0x80 >> (bit & 7)
            if (value >> (self._status_size - 1 - offset)) & 1:
                self._bits[bit >> 3] |= mask
            else:
                self._bits[bit >> 3] &= ~mask & 0xFF

    def to_bytes(self) -> bytes:
        """The uncompressed bitstring."""
        return bytes(self._bits)

    def encode(self) -> str:
        """Return the ``encodedList`` form: ``"u"`` + base64url (no padding) of the GZIP bytes.

        Deterministic (GZIP ``mtime`` 0), so equal lists encode to equal strings.
        """
        compressed = gzip.compress(bytes(self._bits), compresslevel=GZIP_LEVEL, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: str, status_size: int = 1, *, min_length: int = MIN_LIST_LENGTH) -> BitstringStatusList:
        """Expand an ``encodedList`` into a list of ``status_size``-bit entries.

        ``min_length`` (entries) is the spec's ``minimumNumberOfEntries``; lower it only where an
        ecosystem specification sets a different bound. Raises ``MALFORMED_VALUE_ERROR`` for a
        bad multibase prefix, base64url, GZIP stream or an expansion beyond
        :data:`MAX_DECODED_LIST_BYTES`, and ``STATUS_LIST_LENGTH_ERROR`` for a short list.
        """
        status_size = _check_status_size(status_size)
        bitstring = _expand(encoded)
        entries = len(bitstring) * 8 // status_size
        if entries < min_length:
            raise StatusListError(
                f"the status list holds {entries} entries of {status_size} bit(s); at least {min_length} are required",
                code=STATUS_LIST_LENGTH_ERROR,
            )
        status_list = cls.__new__(cls)
        status_list._status_size = status_size
        status_list._bits = bytearray(bitstring)
        return status_list


def _expand(encoded: object) -> bytes:
    """The spec's Bitstring Expansion Algorithm, with size caps."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise _malformed("encodedList must be a multibase base64url string starting with 'u'")
    if len(encoded) > MAX_ENCODED_LIST_CHARS:
        raise _malformed(f"encodedList is longer than {MAX_ENCODED_LIST_CHARS} characters")
    body = encoded[1:]
    if not _BASE64URL_NOPAD.fullmatch(body):
        raise _malformed("encodedList is not unpadded base64url")
    try:
        compressed = base64.b64decode(body.translate(str.maketrans("-_", "+/")) + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise _malformed(f"encodedList is not valid base64url: {err}") from err
    return _gunzip_capped(compressed, MAX_DECODED_LIST_BYTES)


def _gunzip_capped(compressed: bytes, limit: int) -> bytes:
    """Decompress one GZIP member, refusing more than ``limit`` bytes of output."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    output = bytearray()
    pending = compressed
    try:
        while not inflater.eof:
            piece = inflater.decompress(pending, limit + 1 - len(output))
            output += piece
            if len(output) > limit:
                raise _malformed(f"the status list expands beyond {limit} bytes")
            pending = inflater.unconsumed_tail
            if not pending and not piece:
                break
    except zlib.error as err:
        raise _malformed(f"encodedList is not valid GZIP data: {err}") from err
    if not inflater.eof:
        raise _malformed("encodedList holds a truncated GZIP stream")
    if inflater.unused_data:
        raise _malformed("encodedList has data after the GZIP stream")
    return bytes(output)


def _check_status_messages(status_messages: object, status_size: int) -> dict[int, str]:
    """Validate a ``statusMessage`` array and map each status value to its message."""
    expected = 1 << status_size
    if not isinstance(status_messages, list) or len(status_messages) != expected:
        raise _malformed(f"statusMessage must be an array of {expected} objects for statusSize {status_size}")
    messages: dict[int, str] = {}
    for item in status_messages:
        if not isinstance(item, dict):
            raise _malformed("each statusMessage item must be an object")
        status, message = item.get("status"), item.get("message")
        if not isinstance(status, str) or not _HEX_STATUS.fullmatch(status):
            raise _malformed(f"statusMessage status must be a '0x' hex string, got {status!r}")
        if not isinstance(message, str):
            raise _malformed(f"statusMessage message must be a string, got {message!r}")
        value = int(status, 16)
        if value >= expected or value in messages:
            raise _malformed(f"statusMessage status {status} is out of range or repeated")
        messages[value] = message
    return messages


def build_status_list_credential(
    *,
    list_id: str,
    issuer: str | dict[str, Any],
    status_purpose: str | Sequence[str],
    encoded_list: str,
    valid_from: str,
    valid_until: str | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """Build an UNSIGNED VCDM 2.0 ``BitstringStatusListCredential`` (sign it with a proof module).

    ``statusSize`` and ``statusMessage`` belong to each credential's ``BitstringStatusListEntry``
    (see :func:`build_status_entry`), not to the list: the VC v2 context defines no such terms for
    ``BitstringStatusList``, so a signer in JSON-LD safe mode would refuse them here.
    """
    purposes = [status_purpose] if isinstance(status_purpose, str) else list(status_purpose)
    if not purposes or not all(isinstance(p, str) and p for p in purposes):
        raise _malformed("statusPurpose must be one or more non-empty strings")
    if not _is_url(list_id):
        raise _malformed(f"the status list id must be an absolute URL, got {list_id!r}")
    BitstringStatusList.decode(encoded_list)  # refuse publishing a malformed or short list
    subject: dict[str, Any] = {
        "id": f"{list_id}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purposes[0] if len(purposes) == 1 else purposes,
        "encodedList": encoded_list,
    }
    if ttl_ms is not None:
        if not _is_non_negative_int(ttl_ms):
            raise _malformed(f"ttl must be a non-negative number of milliseconds, got {ttl_ms!r}")
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    return credential


def build_status_entry(
    *,
    list_credential_url: str,
    index: int,
    purpose: str,
    status_size: int = 1,
    status_messages: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Build the ``BitstringStatusListEntry`` that goes in a credential's ``credentialStatus``.

    ``id`` is ``<list_credential_url>#<index>`` and ``statusListIndex`` is the index as a base-10
    string. ``statusSize`` is written when it is not 1, and then ``status_messages`` (one
    ``{"status": "0x..", "message": ..}`` per possible value) is required.
    """
    if not _is_url(list_credential_url):
        raise _malformed(f"statusListCredential must be a URL, got {list_credential_url!r}")
    if not _is_non_negative_int(index):
        raise _malformed(f"statusListIndex must be a non-negative integer, got {index!r}")
    if not isinstance(purpose, str) or not purpose:
        raise _malformed("statusPurpose must be a non-empty string")
    status_size = _check_status_size(status_size)
    if status_size > 1 and status_messages is None:
        raise _malformed("statusMessage is required when statusSize is greater than 1")
    if status_messages is not None:
        _check_status_messages(status_messages, status_size)
    entry: dict[str, Any] = {
        "id": f"{list_credential_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_credential_url,
    }
    if status_size != 1:
        entry["statusSize"] = status_size
    if status_messages is not None:
        entry["statusMessage"] = [dict(item) for item in status_messages]
    return entry


class StatusListResolver(Protocol):
    """Obtains status list credentials by URL (HTTP in the service, a file map in the CLI)."""

    def resolve(self, url: str) -> dict[str, Any]:
        """Return the status list credential at ``url``, or raise :class:`StatusListUnavailable`."""
        ...


class MappedStatusListResolver:
    """A :class:`StatusListResolver` that serves credentials from a fixed ``url -> credential`` map.

    For tests and air-gapped verification (the CLI's ``--resolve URL=PATH``); it never fetches.
    """

    def __init__(self, credentials: Mapping[str, dict[str, Any]]) -> None:
        self._credentials = dict(credentials)

    def resolve(self, url: str) -> dict[str, Any]:
        """Return the mapped credential or raise :class:`StatusListUnavailable`."""
        try:
            return self._credentials[url]
        except KeyError:
            raise StatusListUnavailable(f"no status list credential is known for {url}") from None


@dataclass(frozen=True)
class StatusReading:
    """The status of one credential as read from a status list.

    ``is_set`` is true when ``value`` is non-zero (revoked, suspended, ... per ``purpose``).
    ``message`` is the entry's ``statusMessage`` text for ``value``, or None when the entry has no
    ``statusMessage`` (the spec then calls the values "set" and "unset": see ``is_set``).
    """

    purpose: str
    index: int
    value: int
    message: str | None
    is_set: bool
    list_url: str


def _types_of(node: Mapping[str, Any]) -> list[Any]:
    value = node.get("type")
    return value if isinstance(value, list) else [value]


def _check_entry(entry: object) -> tuple[str, int, str, int, dict[int, str] | None]:
    if not isinstance(entry, dict):
        raise _malformed("credentialStatus entry must be an object")
    if "BitstringStatusListEntry" not in _types_of(entry):
        raise _malformed("credentialStatus type must be BitstringStatusListEntry")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise _malformed("credentialStatus statusPurpose must be a non-empty string")
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not _DECIMAL_INDEX.fullmatch(raw_index):
        raise _malformed(f"statusListIndex must be a non-negative base-10 integer string, got {raw_index!r}")
    if len(raw_index.lstrip("0")) > _MAX_INDEX_DIGITS:
        raise StatusListError(f"statusListIndex {raw_index} is out of range", code=RANGE_ERROR)
    list_url = entry.get("statusListCredential")
    if not _is_url(list_url):
        raise _malformed(f"statusListCredential must be a URL, got {list_url!r}")
    status_size = _check_status_size(entry.get("statusSize", 1))
    messages = None
    if "statusMessage" in entry:
        messages = _check_status_messages(entry["statusMessage"], status_size)
    elif status_size > 1:
        raise _malformed("statusMessage is required when statusSize is greater than 1")
    return purpose, int(raw_index), list_url, status_size, messages


def _list_subject(list_credential: object, list_url: str) -> Mapping[str, Any]:
    if not isinstance(list_credential, dict):
        raise _malformed("the status list credential must be a JSON object")
    if "BitstringStatusListCredential" not in _types_of(list_credential):
        raise _malformed("the status list credential's type lacks BitstringStatusListCredential")
    if "id" in list_credential and list_credential["id"] != list_url:
        raise StatusListError(
            f"the status list credential id {list_credential['id']!r} is not the statusListCredential URL {list_url!r}",
            code=STATUS_VERIFICATION_ERROR,
        )
    subject = list_credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, dict) or "BitstringStatusList" not in _types_of(subject):
        raise _malformed("the status list's credentialSubject must be one BitstringStatusList")
    return subject


def read_status(entry: Mapping[str, Any], list_credential: Mapping[str, Any]) -> StatusReading:
    """Validate a ``BitstringStatusListEntry`` against its list credential and read the status.

    Follows the spec's Validate Algorithm from the status purpose check on: it validates the entry,
    the list credential's shape (type, ``credentialSubject`` type, ``statusPurpose`` - a string or
    a list - containing the entry's purpose, ``id`` equal to the entry's URL when present), then
    expands ``encodedList`` and reads entry ``statusListIndex``.

    It does NOT check the list credential's proof, issuer or validity period: the verification
    pipeline does that with the proof modules before trusting the reading.
    """
    purpose, index, list_url, status_size, messages = _check_entry(entry)
    subject = _list_subject(list_credential, list_url)
    list_purposes = subject.get("statusPurpose")
    if isinstance(list_purposes, str):
        list_purposes = [list_purposes]
    if not isinstance(list_purposes, list) or not all(isinstance(p, str) for p in list_purposes):
        raise _malformed("the status list's statusPurpose must be one or more strings")
    if purpose not in list_purposes:
        raise StatusListError(
            f"the entry's statusPurpose {purpose!r} is not a purpose of the list "
            f"({', '.join(list_purposes) or 'none'})",
            code=STATUS_VERIFICATION_ERROR,
        )
    if "encodedList" not in subject:
        raise _malformed("the status list's credentialSubject has no encodedList")
    status_list = BitstringStatusList.decode(subject["encodedList"], status_size)
    value = status_list.get(index)
    return StatusReading(
        purpose=purpose,
        index=index,
        value=value,
        message=messages[value] if messages is not None else None,
        is_set=value != 0,
        list_url=list_url,
    )
