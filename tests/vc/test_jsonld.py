"""The offline document loader and safe-mode expansion.

What pyld does on its own, and these tests hold the wrapper to: it drops undefined terms silently
and resolves relative IRIs against a made-up base (safe mode must refuse both, as VC Data
Integrity 1.0 "Securing Data Losslessly" requires); it loses ``@direction`` unless
``rdfDirection="i18n-datatype"`` is passed; its N-Quads escaping is not RDFC-1.0's; it caches
processed contexts across calls only for ``static`` loader results; and 1EdTech's OB 3.0.3 context
exists in two editions.
"""

import hashlib
import json

import pytest
from pyld import jsonld as pyld

from service.vc import jsonld
from service.vc.errors import DocumentLoaderError, JsonLdSafeModeError

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

REQUIRED_CONTEXTS = [
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://www.w3.org/ns/credentials/status/v1",
]


def simple_credential(**subject) -> dict:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:me", "type": ["AchievementSubject"], **subject},
    }


@pytest.mark.parametrize("url", REQUIRED_CONTEXTS)
def test_required_contexts_are_bundled(url):
    assert url in jsonld.bundled_context_urls()
    assert "@context" in jsonld.DEFAULT_LOADER.document(url)


def test_bundled_context_bytes_match_their_recorded_sha256():
    urlmap = json.loads((jsonld.CONTEXTS_DIR / "urlmap.json").read_text())["contexts"]
    for url, entry in urlmap.items():
        for item in [entry, *entry.get("alternates", [])]:
            digest = hashlib.sha256((jsonld.CONTEXTS_DIR / item["file"]).read_bytes()).hexdigest()
            assert digest == item["sha256"], url


def test_both_editions_of_the_ob_3_0_3_context_are_available():
    variants = jsonld.context_variants(OB)
    assert len(variants) == 2
    assert "jti" not in variants[0].document["@context"] and "jti" in json.dumps(variants[1].document)


def test_an_unbundled_context_is_refused_not_fetched():
    document = {"@context": "https://evil.example/context.jsonld", "name": "x"}
    with pytest.raises(DocumentLoaderError, match="not bundled"):
        jsonld.canonize(document)


def test_pyld_default_loader_refuses_the_network_for_any_caller():
    with pytest.raises(pyld.JsonLdError):
        pyld.expand({"@context": "https://example.com/ctx", "a": 1})


def test_undefined_terms_are_an_error_not_silently_dropped():
    with pytest.raises(JsonLdSafeModeError, match="nickname"):
        jsonld.canonize(simple_credential(nickname="Ace"))


def test_relative_iris_are_an_error():
    credential = simple_credential()
    credential["id"] = "credentials/1"
    with pytest.raises(JsonLdSafeModeError, match="Relative IRI"):
        jsonld.canonize(credential)


def test_relative_type_is_an_error():
    # OB's 1EdTechJsonSchemaValidator2019 is defined in neither VC v2 nor OB 3.0.3; pyld would
    # yield an extra triple for it where jsonld.js in safe mode raises an error.
    credential = simple_credential()
    credential["credentialSchema"] = [
        {"id": "https://example.com/schema.json", "type": "1EdTechJsonSchemaValidator2019"}
    ]
    with pytest.raises(JsonLdSafeModeError):
        jsonld.canonize(credential)


def test_text_direction_is_kept_as_an_i18n_datatype():
    credential = simple_credential()
    credential["name"] = {"@value": "مرحبا", "@language": "ar", "@direction": "rtl"}
    assert "<https://www.w3.org/ns/i18n#ar_rtl>" in jsonld.canonize(credential)


def test_control_characters_are_escaped_as_rdfc_1_0_says():
    credential = simple_credential()
    credential["name"] = "tab\there\bbell\x7f"
    assert '"tab\\there\\bbell\\u007F"' in jsonld.canonize(credential)


def test_processed_contexts_are_cached_across_calls():
    calls = []

    class CountingLoader(jsonld.DocumentLoader):
        def document(self, url):
            calls.append(url)
            return super().document(url)

    loader = CountingLoader()
    jsonld.canonize(simple_credential(), loader)
    first = len(calls)
    jsonld.canonize(simple_credential(), loader)
    assert first > 0 and len(calls) == first


def test_equivalent_documents_canonicalize_identically():
    a = simple_credential()
    b = json.loads(json.dumps(a))
    b["type"] = list(reversed(b["type"]))
    b["issuer"] = dict(reversed(list(b["issuer"].items())))
    assert jsonld.canonize(a) == jsonld.canonize(b)


def test_noncharacters_are_written_as_themselves_as_rdfc_1_0_says():
    # pyoxigraph >= 0.5 escapes U+FFFE/U+FFFF (RDF 1.2 N-Triples); RDFC-1.0 appendix A does not.
    credential = simple_credential()
    credential["name"] = "a\ufffe\uffff"
    assert '"a\ufffe\uffff"' in jsonld.canonize(credential)


def test_utf16_order_differs_from_code_point_order_only_beyond_the_bmp():
    credential = simple_credential()
    credential["credentialSubject"]["achievement"] = {
        "id": "urn:uuid:2",
        "type": ["Achievement"],
        "name": "x",
        "description": "x",
        "criteria": {"narrative": "x"},
        "tag": ["🎓", "Ｗｅｌｄｉｎｇ"],
    }
    standard, quirk = jsonld.canonize(credential), jsonld.canonize(credential, utf16_order=True)
    assert standard.index("Ｗｅｌｄｉｎｇ") < standard.index("🎓")
    assert quirk.index("🎓") < quirk.index("Ｗｅｌｄｉｎｇ")
    plain = simple_credential()
    assert jsonld.canonize(plain) == jsonld.canonize(plain, utf16_order=True)
