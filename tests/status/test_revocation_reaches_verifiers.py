"""A revocation takes effect now, not at the next re-signing interval: the job deferred with it
re-signs the list within seconds, and digitalbazaar's independent verifier, reading the lists as
the service publishes them, rejects a credential revoked 5 seconds earlier. The interval here is
the production default (300 s), so the periodic round cannot be what published it: the change's
own job did (or, were the worker behind, the first read 3 s after the change)."""

from __future__ import annotations

import time

import pytest

from tests.interop.node_verifier import NodeVC, ensure_node_modules
from tests.status.helpers import change, entries, served_list
from tests.status.test_interop_js import js_verify  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.interop, pytest.mark.parametrize("status_settings", [{"jobs_in_process": True}])]

PUBLISHED_WITHIN_SECONDS = 5.0


@pytest.fixture(scope="session")
def node_vc() -> NodeVC:
    ensure_node_modules()
    return NodeVC()


def test_the_javascript_verifier_rejects_a_credential_revoked_five_seconds_earlier(app, api, achievement, js_verify):  # noqa: F811
    assert app.state.settings.status_list_resign_interval_seconds == 300
    issued = api.issue(achievement["id"])
    credential = issued["credential"]
    revocation = entries(credential)["revocation"]
    assert js_verify(credential).verified
    before = served_list(api.client, revocation).headers["etag"]

    assert change(api, issued["id"], "revoke", "Issued in error").status_code == 200
    revoked_at = time.monotonic()
    while served_list(api.client, revocation).headers["etag"] == before:
        assert time.monotonic() - revoked_at < PUBLISHED_WITHIN_SECONDS, "the revocation was not published in 5 s"
        time.sleep(0.1)
    time.sleep(max(0.0, PUBLISHED_WITHIN_SECONDS - (time.monotonic() - revoked_at)))
    rejected = js_verify(credential)

    assert not rejected.verified
    assert rejected.checks["status"] is False
