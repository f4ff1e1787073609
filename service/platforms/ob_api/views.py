"""OB 3.0 API responses built from stored text: a page of credentials is spliced together from
each credential's text exactly as issued or upserted, never parsed and re-serialised."""

from __future__ import annotations

import json
from collections.abc import Sequence

from service.platforms.ob_api.service import ListedCredential


def credentials_body(page: Sequence[ListedCredential]) -> bytes:
    """A ``GetOpenBadgeCredentialsResponse`` as UTF-8 JSON: the JSON-LD texts verbatim in
    ``credential``, the compact JWS strings in ``compactJwsString``, in page order."""
    jsonld = ",".join(item.text for item in page if item.format == "jsonld")
    jws = json.dumps([item.text for item in page if item.format == "jwt"])
    return ('{"credential":[' + jsonld + '],"compactJwsString":' + jws + "}").encode("utf-8")
