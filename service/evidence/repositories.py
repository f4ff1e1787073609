"""Cloning an earner's git repository safely, and keeping it as a ``git bundle`` pinned to a commit.

:class:`RepositoryFetcher` ``.fetch(url, commit)`` returns a :class:`ClonedRepository` (the bundle
bytes: the history up to ``commit``) or raises a :class:`~service.net.errors.FetchError` with a
stable ``code``. The same rules as :class:`~service.net.fetch.SafeFetcher`, applied to git:

1. the URL: ``https`` only (no ``ssh``, ``git``, ``file``, ``ext::`` or other transports), no
   credentials, no query or fragment, nothing that git could read as an option (a leading ``-``),
   no whitespace or control characters; the commit: a full SHA-1 or SHA-256 in hex;
2. the host is resolved once with the injectable ``resolver``, and every address must pass
   :func:`~service.net.addresses.is_allowed_address` (public, or in ``allowed_networks``);
3. git connects to exactly those vetted addresses (``http.curloptResolve=host:port:ip``), so a DNS
   answer that changes later cannot redirect it; redirects and http-alternates are off
   (``http.followRedirects=false``), every transport but https is forbidden
   (``protocol.allow=never``, ``protocol.https.allow=always``), no system or user git config,
   credential helper, askpass or terminal prompt is used, and no proxy from the environment;
4. the clone runs in a fresh temporary folder in its own process group, which is killed when
   the time budget runs out or the folder grows past ``max_bytes``;
5. the pinned commit must exist, its working tree must fit ``max_checkout_bytes`` /
   ``max_checkout_files``, and the bundle must fit ``max_bytes``.

:func:`checkout_bundle` turns a stored bundle back into a working tree at the commit (symbolic
links checked out as plain files), for assessors.

Test seams, settable only in code: ``resolver``, ``allowed_networks`` and ``ca_file`` (a CA
bundle for git to trust, e.g. a test HTTPS server's).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv6Address
from pathlib import Path

from service.net.addresses import IPAddress, IPNetwork, is_allowed_address
from service.net.errors import (
    BadScheme,
    BadUrl,
    BlockedAddress,
    FetchError,
    FetchTimeout,
    TooLarge,
)
from service.net.fetch import Resolver, resolve_once, split_url, url_host

PINNED_REF = "refs/skillcred/pinned"
MAX_URL_LENGTH = 2048
POLL_SECONDS = 0.05
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_PATH = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/%-]*")


class UnknownCommit(FetchError):
    """The repository was cloned, but the pinned commit is not in it."""

    code = "unknown_commit"


class CloneFailed(FetchError):
    """git could not clone the repository (not found, not a git repository, TLS, refused...)."""

    code = "clone_failed"


@dataclass(frozen=True)
class RepositoryTarget:
    """A parsed repository URL: ``url`` as given, its ASCII lower-case ``host``, ``port`` and
    ``path``. git is handed :attr:`clone_url`, which names exactly the host and port the pinned
    address is registered for (so no spelling of the host can make git resolve it itself)."""

    url: str
    host: str
    port: int
    path: str
    literal: IPAddress | None

    @property
    def clone_url(self) -> str:
        host = f"[{self.host}]" if isinstance(self.literal, IPv6Address) else self.host
        return f"https://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class ClonedRepository:
    """A cloned repository: ``bundle`` holds the history up to ``commit`` (``git bundle``
    format, one ref ``refs/skillcred/pinned``); ``address`` is the IP git connected to."""

    url: str
    commit: str
    bundle: bytes
    address: str
    files: int
    tree_bytes: int


def check_commit(commit: object) -> str:
    """``commit`` lower-cased when it is a full SHA-1 (40) or SHA-256 (64) hex id, else BadUrl."""
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit.lower()):
        raise BadUrl("the commit must be a full 40- or 64-character hex commit id")
    return commit.lower()


def parse_repository_url(url: object) -> RepositoryTarget:
    """Parse and check a repository URL (rule 1 above) without touching the network."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise BadUrl(f"not a URL of at most {MAX_URL_LENGTH} characters")
    if url.startswith("-"):
        raise BadUrl("a repository URL may not start with '-'", url=url)
    parts, port = split_url(url)
    if parts.scheme.lower() != "https" or "::" in url.split("/", 1)[0]:
        raise BadScheme(f"a repository is cloned over https only, not {parts.scheme or 'none'!r}", url=url)
    if "@" in parts.netloc:
        raise BadUrl("URLs carrying credentials (user:password@) are refused", url=url)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise BadUrl("a repository URL has no query or fragment", url=url)
    if not _PATH.fullmatch(parts.path) or not parts.path.strip("/"):
        raise BadUrl("the repository URL needs a path of plain URL characters", url=url)
    hostname = parts.hostname
    if not hostname:
        raise BadUrl("the URL has no host", url=url)
    hostname, literal = url_host(hostname, url)
    if literal is None and (not re.fullmatch(r"[A-Za-z0-9.-]+", hostname) or hostname.startswith("-")):
        raise BadUrl(f"invalid host name {hostname!r}", url=url)
    return RepositoryTarget(
        url=url, host=hostname if literal else hostname.lower(), port=port or 443, path=parts.path, literal=literal
    )


class RepositoryFetcher:
    """Clones https git repositories without reaching private networks (see the module doc).

    ``timeout`` bounds the whole clone in seconds; ``max_bytes`` caps the clone folder and the
    bundle; ``max_checkout_bytes``/``max_checkout_files`` cap the working tree at the commit.
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        max_bytes: int = 25 * 1024 * 1024,
        max_checkout_bytes: int = 200 * 1024 * 1024,
        max_checkout_files: int = 20_000,
        resolver: Resolver = socket.getaddrinfo,
        allowed_networks: Iterable[IPNetwork] = (),
        ca_file: Path | None = None,
        git: str = "git",
    ) -> None:
        if timeout <= 0 or max_bytes <= 0:
            raise ValueError("timeout and max_bytes must be positive")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_checkout_bytes = max_checkout_bytes
        self.max_checkout_files = max_checkout_files
        self._resolver = resolver
        self._allowed_networks = tuple(allowed_networks)
        self._ca_file = ca_file
        self._git = git

    def precheck(self, url: str, commit: str) -> None:
        """Refuse what can be refused without the network: a malformed commit or URL, a scheme
        other than https, an IP literal outside the allowed networks (a host name is only checked
        when :meth:`fetch` resolves it)."""
        check_commit(commit)
        target = parse_repository_url(url)
        if target.literal is not None and not is_allowed_address(target.literal, self._allowed_networks):
            raise BlockedAddress("the host is not an allowed host", url=url)

    def fetch(self, url: str, commit: str) -> ClonedRepository:
        """Clone ``url``, check ``commit`` is in it, and return the history up to it as a bundle."""
        deadline = time.monotonic() + self.timeout
        commit = check_commit(commit)
        target = parse_repository_url(url)
        addresses = self._resolve(target, deadline)
        blocked = [a for a in addresses if not is_allowed_address(a, self._allowed_networks)]
        if blocked:
            raise BlockedAddress(f"{target.host} is not an allowed host", url=url)  # no address (issue 9)
        work = Path(tempfile.mkdtemp(prefix="skillcred-clone-"))
        try:
            return self._fetch_into(work, target, addresses, commit, deadline)
        except subprocess.TimeoutExpired:
            raise FetchTimeout(f"git took too long on {url}", url=url) from None
        except OSError as err:
            raise CloneFailed(f"git could not be run: {err.strerror or err}", url=url) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _fetch_into(
        self, work: Path, target: RepositoryTarget, addresses: Sequence[IPAddress], commit: str, deadline: float
    ) -> ClonedRepository:
        """Clone into ``work``, check the commit and the tree, and bundle the pinned history."""
        url = target.url
        clone = work / "repository.git"
        self._clone(target, addresses, clone, work, deadline)
        if _git_quiet(self._git, clone, "cat-file", "-e", f"{commit}^{{commit}}", home=work) != 0:
            raise UnknownCommit(f"the commit {commit} is not in {url}", url=url)
        files, tree_bytes = tree_size(self._git, clone, commit, home=work)
        if files > self.max_checkout_files or tree_bytes > self.max_checkout_bytes:
            raise TooLarge(
                f"the working tree at {commit[:12]} has {files} files and {tree_bytes} bytes; "
                f"at most {self.max_checkout_files} files and {self.max_checkout_bytes} bytes "
                "are accepted",
                url=url,
            )
        bundle = work / "pinned.bundle"
        _git_checked(self._git, clone, "update-ref", PINNED_REF, commit, home=work)
        _git_checked(self._git, clone, "bundle", "create", "--quiet", str(bundle), PINNED_REF, home=work)
        if bundle.stat().st_size > self.max_bytes:
            raise TooLarge(
                f"the repository's history up to {commit[:12]} is larger than {self.max_bytes} bytes", url=url
            )
        return ClonedRepository(
            url=url,
            commit=commit,
            bundle=bundle.read_bytes(),
            address=str(addresses[0]),
            files=files,
            tree_bytes=tree_bytes,
        )

    def _resolve(self, target: RepositoryTarget, deadline: float) -> list[IPAddress]:
        if target.literal is not None:
            return [target.literal]
        return resolve_once(self._resolver, target.host, target.port, deadline - time.monotonic(), url=target.url)

    def _clone(
        self, target: RepositoryTarget, addresses: Sequence[IPAddress], into: Path, home: Path, deadline: float
    ) -> None:
        pinned = ",".join(f"[{a}]" if isinstance(a, IPv6Address) else str(a) for a in addresses)
        options = {
            "protocol.allow": "never",
            "protocol.https.allow": "always",
            "http.followRedirects": "false",
            "http.curloptResolve": f"{target.host}:{target.port}:{pinned}",
            "http.sslVerify": "true",
            "credential.helper": "",
            "core.askPass": "",
            "transfer.fsckObjects": "true",
            "core.hooksPath": "/dev/null",
        }
        if self._ca_file is not None:
            options["http.sslCAInfo"] = str(self._ca_file)
        command = [self._git]
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        command += ["clone", "--bare", "--quiet", "--", target.clone_url, str(into)]
        stderr_path = home / "stderr"
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                command,
                cwd=home,
                env=_git_env(home, network=True),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
            try:
                self._watch(process, into, target.url, deadline)
            finally:
                _kill_group(process)
        if process.returncode != 0:
            raise CloneFailed(f"git could not clone {target.url}: {_last_line(stderr_path, home)}", url=target.url)
        if folder_size(into) > self.max_bytes:
            raise TooLarge(f"{target.url} is larger than {self.max_bytes} bytes", url=target.url)

    def _watch(self, process: subprocess.Popen, folder: Path, url: str, deadline: float) -> None:
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise FetchTimeout(f"cloning {url} took longer than {self.timeout} s", url=url)
            if folder_size(folder) > self.max_bytes:
                raise TooLarge(f"{url} is larger than {self.max_bytes} bytes", url=url)
            time.sleep(POLL_SECONDS)


# --- git helpers ------------------------------------------------------------------------------


def _git_env(home: Path, *, network: bool = False) -> dict[str, str]:
    """A clean environment: no user or system git config, no prompts, no proxies, no askpass."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C",
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_LFS_SKIP_SMUDGE": "1",
        "GIT_PROTOCOL_FROM_USER": "0",
    }
    if network:
        env["GIT_ALLOW_PROTOCOL"] = "https"
    return env


def _git_quiet(git: str, repository: Path, *args: str, home: Path) -> int:
    return subprocess.run(
        [git, "-C", str(repository), *args],
        env=_git_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    ).returncode


def _git_checked(git: str, repository: Path, *args: str, home: Path) -> bytes:
    result = subprocess.run(
        [git, "-C", str(repository), *args],
        env=_git_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["failed"]
        command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise CloneFailed(f"git {command}: {message[0].replace(str(home), '')}")
    return result.stdout


def tree_size(git: str, repository: Path, commit: str, *, home: Path) -> tuple[int, int]:
    """(files, bytes) of the working tree at ``commit`` (gitlinks and symbolic links count as files)."""
    listing = _git_checked(git, repository, "ls-tree", "-r", "-l", "-z", commit, home=home)
    files = total = 0
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta = record.split(b"\t", 1)[0].split()
        files += 1
        if len(meta) >= 4 and meta[3].isdigit():
            total += int(meta[3])
    return files, total


def folder_size(folder: Path) -> int:
    """Bytes in the files under ``folder`` (0 when it does not exist yet)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                continue
    return total


def _kill_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def _last_line(path: Path, home: Path) -> str:
    lines = [line.strip() for line in path.read_text("utf-8", "replace").splitlines() if line.strip()]
    return (lines[-1] if lines else "no reason given").replace(str(home), "")[:300]


def checkout_bundle(
    bundle: Path,
    commit: str,
    into: Path,
    *,
    git: str = "git",
    max_checkout_bytes: int | None = None,
    max_checkout_files: int | None = None,
) -> Path:
    """Make ``into`` a git working tree at ``commit`` from a stored ``bundle`` (history included).

    Symbolic links are checked out as plain files holding the link text, so nothing in the
    tree points outside it. With the limits given, a tree larger than them is refused
    (:class:`~service.net.errors.TooLarge`) before anything is checked out.
    """
    commit = check_commit(commit)
    home = into.parent
    _git_checked(git, home, "init", "--quiet", str(into), home=home)
    _git_checked(git, into, "bundle", "unbundle", str(bundle), home=home)  # objects in, no transport
    _git_checked(git, into, "update-ref", PINNED_REF, commit, home=home)
    if max_checkout_bytes is not None or max_checkout_files is not None:
        files, size = tree_size(git, into, commit, home=home)
        if (max_checkout_files is not None and files > max_checkout_files) or (
            max_checkout_bytes is not None and size > max_checkout_bytes
        ):
            raise TooLarge(f"the working tree at {commit[:12]} is too large to check out")
    _git_checked(
        git,
        into,
        "-c",
        "core.symlinks=false",
        "-c",
        "advice.detachedHead=false",
        "checkout",
        "--quiet",
        "--detach",
        commit,
        home=home,
    )
    return into
