"""DID documents carry a strong ETag of their bytes: a verifier revalidating its copy with
``If-None-Match`` gets a 304 while the document is unchanged, and the whole new document once a
key was rotated (RFC 9110 sections 8.8.3 and 13.1.2)."""

from __future__ import annotations

import pytest

from tests.verification.test_key_compromise import rotate


@pytest.mark.parametrize("host", [True, False])
def test_a_did_document_is_304_while_unchanged_and_200_with_a_new_etag_after_a_rotation(client, api, host):
    first = api.create_issuer("Host")
    issuer = first if host else api.create_issuer("Path")
    path = "/.well-known/did.json" if host else f"/issuers/{issuer['id']}/did.json"
    served = client.get(path)
    etag = served.headers["etag"]
    assert etag.startswith('"') and "max-age=300" in served.headers["cache-control"]

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["access-control-allow-origin"] == "*"

    rotate(api, issuer["id"])
    rotated = client.get(path, headers={"If-None-Match": etag})
    assert rotated.status_code == 200
    assert rotated.headers["etag"] != etag
    assert len(rotated.json()["verificationMethod"]) > len(served.json()["verificationMethod"])
