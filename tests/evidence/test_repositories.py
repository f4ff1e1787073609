"""Cloning repositories: over https only, to vetted addresses only, within time and size caps, and
pinned to a commit that must exist. The server is a real HTTPS git server on 127.0.0.1 whose
host name (git.test) no DNS knows."""

import subprocess

import pytest

from service.evidence.repositories import (
    RepositoryFetcher,
    checkout_bundle,
    parse_repository_url,
)
from service.net.errors import FetchError
from tests.evidence.conftest import LOOPBACK_ONLY, NAMES
from tests.evidence.git_server import HOST, git, make_repository
from tests.net.local_server import fixed_resolver, no_dns


def fetcher(server, **options) -> RepositoryFetcher:
    options.setdefault("resolver", fixed_resolver(NAMES))
    options.setdefault("allowed_networks", LOOPBACK_ONLY)
    options.setdefault("timeout", 5.0)
    return RepositoryFetcher(ca_file=server.ca_file, **options)


def failure(call) -> FetchError:
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value


@pytest.fixture
def project(tmp_path, git_server):
    """A three-commit repository served at ``url``; ``commits`` oldest first."""
    source = tmp_path / "source"
    commits = make_repository(
        source,
        [
            {"README.md": "# Demo\n"},
            {"src/app.py": "def add(a, b):\n    return a + b\n"},
            {"tests/test_app.py": "from src.app import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"},
        ],
        symlinks={"passwd": "/etc/passwd"},
    )
    return {"url": git_server.publish(source), "commits": commits, "source": source}


def test_a_repository_is_cloned_to_a_bundle_of_its_history_up_to_the_pinned_commit(git_server, project, tmp_path):
    pinned = project["commits"][1]
    cloned = fetcher(git_server).fetch(project["url"], pinned.upper())
    assert cloned.commit == pinned and cloned.address == "127.0.0.1"
    assert cloned.bundle.startswith(b"# v2 git bundle\n")
    bundle = tmp_path / "stored.bundle"
    bundle.write_bytes(cloned.bundle)
    tree = checkout_bundle(bundle, pinned, tmp_path / "checkout")
    assert (tree / "src" / "app.py").read_text().startswith("def add")
    assert not (tree / "tests").exists()  # the later commit is not part of the pinned history
    assert git("log", "--format=%s", cwd=tree).splitlines() == ["commit 2", "commit 1"]


def test_symbolic_links_are_checked_out_as_plain_files(git_server, project, tmp_path):
    last = project["commits"][-1]
    bundle = tmp_path / "stored.bundle"
    bundle.write_bytes(fetcher(git_server).fetch(project["url"], last).bundle)
    tree = checkout_bundle(bundle, last, tmp_path / "checkout")
    link = tree / "passwd"
    assert not link.is_symlink() and link.read_text() == "/etc/passwd"


def test_the_host_is_resolved_once_by_the_vetting_resolver_and_git_is_pinned_to_that_address(git_server, project):
    calls: list[str] = []
    fetcher(git_server, resolver=fixed_resolver(NAMES, calls)).fetch(project["url"], project["commits"][0])
    assert calls == [HOST]  # git.test resolves nowhere else: git connected to the vetted address
    assert git_server.requests


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1"])
def test_a_host_that_resolves_to_a_private_address_is_refused_before_git_runs(git_server, project, address):
    strict = RepositoryFetcher(resolver=fixed_resolver({HOST: [address]}), timeout=2.0)
    err = failure(lambda: strict.fetch(project["url"], project["commits"][0]))
    assert err.code == "blocked_address"
    assert git_server.requests == []


def test_any_private_address_among_several_refuses_the_host(git_server, project):
    mixed = RepositoryFetcher(resolver=fixed_resolver({HOST: ["93.184.216.34", "10.1.2.3"]}))
    assert failure(lambda: mixed.fetch(project["url"], project["commits"][0])).code == "blocked_address"


@pytest.mark.parametrize(
    "url",
    [
        "http://git.test/project.git",
        "ssh://git@git.test/project.git",
        "git://git.test/project.git",
        "file:///etc",
        "ext::sh -c touch% /tmp/pwned",
        "fd::17",
        "git.test:project.git",
    ],
)
def test_transports_other_than_https_are_refused(url):
    err = failure(lambda: RepositoryFetcher(resolver=no_dns).fetch(url, "a" * 40))
    assert err.code in ("bad_scheme", "bad_url")


@pytest.mark.parametrize(
    "url",
    [
        "-uhttps://git.test/x.git",
        "--upload-pack=touch /tmp/pwned",
        "https://user:secret@git.test/x.git",
        "https://git.test/x.git?service=git-upload-pack",
        "https://git.test/x.git#frag",
        "https://git.test/",
        "https://git.test/x y.git",
        "https://-oProxyCommand=x/x.git",
        "https://git.test/x.git\n--upload-pack=x",
    ],
)
def test_option_injection_credentials_and_odd_urls_are_refused(url):
    assert failure(lambda: RepositoryFetcher(resolver=no_dns).fetch(url, "a" * 40)).code == "bad_url"


@pytest.mark.parametrize("commit", ["main", "HEAD", "abc123", "a" * 39, "g" * 40, "--all", "a" * 41])
def test_the_commit_must_be_a_full_commit_id(commit):
    assert failure(lambda: RepositoryFetcher(resolver=no_dns).fetch("https://git.test/x.git", commit)).code == "bad_url"


def test_a_commit_that_is_not_in_the_repository_is_refused(git_server, project):
    err = failure(lambda: fetcher(git_server).fetch(project["url"], "0123456789abcdef0123456789abcdef01234567"))
    assert err.code == "unknown_commit"


def test_a_repository_larger_than_the_cap_is_refused(git_server, tmp_path):
    import os

    source = tmp_path / "big"
    commits = make_repository(source, [{"noise.bin": os.urandom(300 * 1024)}])
    url = git_server.publish(source, "big")
    err = failure(lambda: fetcher(git_server, max_bytes=100 * 1024).fetch(url, commits[0]))
    assert err.code == "too_large"


def test_a_working_tree_larger_than_the_cap_is_refused_even_when_it_packs_small(git_server, tmp_path):
    source = tmp_path / "zeros"
    commits = make_repository(source, [{"zeros.txt": b"0" * (2 * 1024 * 1024)}])
    url = git_server.publish(source, "zeros")
    err = failure(lambda: fetcher(git_server, max_checkout_bytes=1024 * 1024).fetch(url, commits[0]))
    assert err.code == "too_large" and "working tree" in str(err)


def test_a_server_that_never_answers_runs_into_the_time_budget(git_server, project):
    import time

    git_server.stall = True
    started = time.monotonic()
    err = failure(lambda: fetcher(git_server, timeout=1.0).fetch(project["url"], project["commits"][0]))
    assert err.code == "timeout" and time.monotonic() - started < 3


def test_redirects_are_not_followed(git_server, project):
    git_server.redirect_to = "https://elsewhere.test"
    err = failure(lambda: fetcher(git_server).fetch(project["url"], project["commits"][0]))
    assert err.code == "clone_failed"
    assert all(not r.startswith("https://elsewhere") for r in git_server.requests)


def test_a_certificate_the_client_does_not_trust_fails_the_clone(git_server, project):
    untrusting = RepositoryFetcher(resolver=fixed_resolver(NAMES), allowed_networks=LOOPBACK_ONLY, timeout=5.0)
    assert failure(lambda: untrusting.fetch(project["url"], project["commits"][0])).code == "clone_failed"


def test_a_missing_repository_fails_clearly(git_server):
    err = failure(lambda: fetcher(git_server).fetch(git_server.url("/nothing.git"), "a" * 40))
    assert err.code == "clone_failed" and "/tmp/" not in str(err)


def test_nothing_is_left_in_the_temporary_folder(git_server, project, monkeypatch, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    fetcher(git_server).fetch(project["url"], project["commits"][0])
    failure(lambda: fetcher(git_server).fetch(project["url"], "b" * 40))
    assert list(scratch.iterdir()) == []


def test_parsing_keeps_the_url_and_gives_git_the_exact_host_and_port_that_were_pinned():
    target = parse_repository_url("https://Git.Test.:8443/team/project.git")
    assert (target.host, target.port, target.url) == ("git.test", 8443, "https://Git.Test.:8443/team/project.git")
    assert target.clone_url == "https://git.test:8443/team/project.git"
    assert parse_repository_url("https://git.test/a/b").clone_url == "https://git.test:443/a/b"
    assert parse_repository_url("https://[2001:db8::1]/a").clone_url == "https://[2001:db8::1]:443/a"


def test_a_host_spelled_differently_is_still_reached_only_at_the_vetted_address(git_server, project):
    url = project["url"].replace("https://git.test", "https://GIT.Test.")
    assert fetcher(git_server).fetch(url, project["commits"][0]).url == url


def test_git_is_new_enough_to_pin_addresses():
    version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[2]
    assert tuple(int(p) for p in version.split(".")[:2]) >= (2, 37)  # http.curloptResolve
