"""An SSRF-safe HTTP(S) fetcher for URLs that other people chose (status lists, evidence, DIDs).

:class:`SafeFetcher` ``.fetch(url)`` returns a :class:`FetchResult` or raises a
:class:`~service.net.errors.FetchError` with a stable ``code``. For every hop (the URL asked for
and each redirect target) it:

1. parses the URL: only ``https`` (``http`` too when ``allow_http``, for development), no
   ``user:pass@`` credentials, any port;
2. resolves the host name once, with the injected ``resolver`` (``socket.getaddrinfo`` by default),
   inside the time budget;
3. refuses the hop if ANY resolved address is not public (:mod:`service.net.addresses`), unless it
   lies in one of the explicitly ``allowed_networks``;
4. connects to one of exactly those vetted addresses, never resolving the name again;
5. caps the redirects, the total time and the body size (streamed; reading stops past the cap).

How the address is pinned. ``httpcore`` (the engine under ``httpx``) opens every TCP connection
through a *network backend*. This module gives each hop its own one-connection
``httpcore.ConnectionPool`` whose backend, :class:`_PinnedBackend`, ignores DNS entirely: asked to
connect to the URL's host it dials the vetted IP address instead, and it refuses any other host.
Everything above the socket still sees the host name: the ``Host`` header is built from the URL,
and for ``https`` httpcore calls ``start_tls(server_hostname=<URL host>)`` on the pinned socket,
so SNI and certificate verification are for the name, not the IP. A DNS answer that changes
between the check and the connection (DNS rebinding) therefore cannot redirect the connection.
The backend also wraps each stream so that every connect, TLS handshake, read and write gets at
most the time left in the fetch's budget: a server that drips one byte a second cannot hold the
fetch past ``timeout``. No proxy settings from the environment are used.
"""

from __future__ import annotations

import functools
import logging
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any
from urllib.parse import SplitResult, quote, urljoin, urlsplit

import httpcore

from service.net.addresses import IPAddress, IPNetwork, is_allowed_address
from service.net.errors import (
    BadScheme,
    BadUrl,
    BlockedAddress,
    FetchError,
    FetchTimeout,
    HttpError,
    TooLarge,
    TooManyRedirects,
    Unreachable,
)

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 3
MAX_URL_LENGTH = 4096
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "SkillCred-fetcher/1"

Resolver = Callable[..., list[tuple[Any, ...]]]
"""``socket.getaddrinfo``-compatible: called as ``resolver(host, port, type=socket.SOCK_STREAM)``."""

_DEFAULT_PORTS = {"https": 443, "http": 80}
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"

log = logging.getLogger("skillcred.net")


@dataclass(frozen=True)
class FetchResult:
    """A successful (2xx) response. ``url`` is the final URL after redirects, ``headers`` has
    lower-case names (repeated headers joined with ``", "``), ``address`` is the IP address the
    connection went to."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    address: str


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # ASCII host name, or an IP literal without brackets
    port: int
    target: str  # path and query, percent-encoded ASCII
    literal: IPAddress | None = field(default=None)

    @property
    def host_header(self) -> str:
        host = self.host
        if self.literal is not None and self.literal.version == 6:
            host = f"[{host.split('%')[0]}]"
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """httpcore's default context (certifi roots, TLS 1.2 or later, names verified), made once per
    process on first use: loading the roots takes ~35 ms, which every app start-up and every
    request that built a fetcher paid, and one context serves any number of connections and
    threads."""
    return httpcore.default_ssl_context()


class SafeFetcher:
    """Fetches http(s) URLs without reaching private networks. Thread-safe; holds no connections.

    ``timeout`` (seconds) bounds the whole fetch, redirects and body included; ``max_bytes`` caps
    the body (per call it can be changed with ``fetch(max_bytes=...)``); ``max_redirects`` caps the
    hops after the first. ``allow_http`` admits plain ``http`` (development only). ``resolver`` is
    injectable for tests. ``allowed_networks`` admits non-public addresses in those networks: for
    tests against a local server, or a deployment that deliberately trusts an internal network.
    ``ssl_context`` replaces the default (certifi roots, TLS 1.2 or later), e.g. to trust a test CA.
    """

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        allow_http: bool = False,
        resolver: Resolver = socket.getaddrinfo,
        *,
        allowed_networks: Iterable[IPNetwork] = (),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if timeout <= 0 or max_bytes < 0 or max_redirects < 0:
            raise ValueError("timeout must be positive; max_bytes and max_redirects non-negative")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_http = allow_http
        self._resolver = resolver
        self._allowed_networks = tuple(allowed_networks)
        self._ssl_context = ssl_context  # None: the process's default, made on first use

    def fetch(self, url: str, *, accept: str = "*/*", max_bytes: int | None = None) -> FetchResult:
        """GET ``url``, following up to ``max_redirects`` redirects, each hop vetted afresh.

        Raises :class:`~service.net.errors.FetchError` subclasses: ``bad_url``, ``bad_scheme``,
        ``blocked_address``, ``unreachable``, ``timeout``, ``too_large``, ``too_many_redirects``,
        ``http_error`` (a final status outside 2xx).
        """
        deadline = time.monotonic() + self.timeout
        limit = self.max_bytes if max_bytes is None else max_bytes
        current = url
        for _hop in range(self.max_redirects + 1):
            target = self._parse(current)
            addresses = self._resolve(target, deadline)
            blocked = [a for a in addresses if not is_allowed_address(a, self._allowed_networks)]
            if blocked:
                # the address stays in the log: a client told it could map internal names (issue 9)
                log.info("refused %s: %s resolves to non-public %s", current, target.host, blocked[0])
                raise BlockedAddress(f"{target.host} is not an allowed host", url=current)
            result = self._request(target, addresses, accept, limit, deadline)
            if result.status not in REDIRECT_STATUSES:
                if not 200 <= result.status < 300:
                    raise HttpError(f"{current} answered HTTP {result.status}", url=current, status=result.status)
                return result
            location = result.headers.get("location", "").strip()
            if not location:
                raise HttpError(f"{current} redirects without a Location", url=current, status=result.status)
            current = urljoin(current, location)
        raise TooManyRedirects(f"{url} redirects more than {self.max_redirects} times", url=current)

    def post(
        self,
        url: str,
        content: bytes,
        *,
        headers: Mapping[str, str],
        content_type: str = "application/json",
        max_bytes: int = 4096,
    ) -> FetchResult:
        """POST ``content`` to ``url`` once, with the same vetting and pinning as :meth:`fetch`.

        Redirects are not followed, and any status is returned (the caller judges it): only the
        transport can fail, with ``bad_url``, ``bad_scheme``, ``blocked_address``,
        ``unreachable`` or ``timeout``. The answer's body is read up to ``max_bytes`` and the rest
        ignored (it is never decoded)."""
        deadline = time.monotonic() + self.timeout
        target = self._parse(url)
        addresses = self._resolve(target, deadline)
        blocked = [a for a in addresses if not is_allowed_address(a, self._allowed_networks)]
        if blocked:
            log.info("refused %s: %s resolves to non-public %s", url, target.host, blocked[0])
            raise BlockedAddress(f"{target.host} is not an allowed host", url=url)
        extra = [(name, value) for name, value in headers.items()]
        extra += [("Content-Type", content_type), ("Content-Length", str(len(content)))]
        return self._request(
            target, addresses, "*/*", max_bytes, deadline, method="POST", content=content, extra_headers=extra
        )

    def precheck(self, url: str) -> None:
        """Refuse what can be refused without the network (``bad_url``, ``bad_scheme``, or
        ``blocked_address`` for an IP literal outside the allowed networks); a host name is only
        checked when :meth:`fetch` resolves it."""
        target = self._parse(url)
        if target.literal is not None and not is_allowed_address(target.literal, self._allowed_networks):
            raise BlockedAddress("the host is not an allowed host", url=url)

    # --- one hop ------------------------------------------------------------------------------

    def _parse(self, url: object) -> _Target:
        if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
            raise BadUrl(f"not a URL of at most {MAX_URL_LENGTH} characters: {str(url)[:80]!r}")
        parts, port = split_url(url)
        scheme = parts.scheme.lower()
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            allowed = "https or http" if self.allow_http else "https"
            raise BadScheme(f"the scheme must be {allowed}, not {scheme or 'none'!r}", url=url)
        if "@" in parts.netloc:
            raise BadUrl("URLs carrying credentials (user:password@) are refused", url=url)
        hostname = parts.hostname
        if not hostname:
            raise BadUrl("the URL has no host", url=url)
        hostname, literal = url_host(hostname, url)
        path = quote(parts.path or "/", safe=_PATH_SAFE)
        query = quote(parts.query, safe=_QUERY_SAFE)
        return _Target(
            url=url,
            scheme=scheme,
            host=str(literal) if literal is not None else hostname,
            port=port or _DEFAULT_PORTS[scheme],
            target=f"{path}?{query}" if query else path,
            literal=literal,
        )

    def _resolve(self, target: _Target, deadline: float) -> list[IPAddress]:
        """Resolve once, within the time budget; the answer is what the connection will use."""
        if target.literal is not None:
            return [target.literal]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout("the time budget ran out before resolving the host", url=target.url)
        return resolve_once(self._resolver, target.host, target.port, remaining, url=target.url)

    def _request(
        self,
        target: _Target,
        addresses: list[IPAddress],
        accept: str,
        limit: int,
        deadline: float,
        *,
        method: str = "GET",
        content: bytes | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> FetchResult:
        backend = _PinnedBackend(target.host, addresses, deadline)
        budget = max(deadline - time.monotonic(), 0.001)
        headers = [
            (b"Host", target.host_header.encode("ascii")),
            (b"Accept", accept.encode("latin-1")),
            (b"Accept-Encoding", b"identity"),
            (b"User-Agent", USER_AGENT.encode("ascii")),
        ]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in extra_headers]
        url = httpcore.URL(
            scheme=target.scheme.encode("ascii"),
            host=target.host.encode("ascii"),
            port=target.port,
            target=target.target.encode("ascii"),
        )
        timeouts = {"connect": budget, "read": budget, "write": budget, "pool": budget}
        try:
            with (
                httpcore.ConnectionPool(
                    ssl_context=self._ssl_context or default_ssl_context(),
                    network_backend=backend,
                    max_connections=1,
                    retries=0,
                ) as pool,
                pool.stream(
                    method, url, headers=headers, content=content, extensions={"timeout": timeouts}
                ) as response,
            ):
                header_map = _header_map(response.headers)
                body = b""
                if method != "GET":
                    body = _read_head(response, limit)
                elif response.status not in REDIRECT_STATUSES:
                    body = _read_body(response, header_map, limit, target.url)
        except FetchError:
            raise
        except httpcore.TimeoutException:
            raise FetchTimeout(f"fetching {target.url} took longer than {self.timeout} s", url=target.url) from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as err:
            log.info("could not fetch %s: %s", target.url, err)
            raise Unreachable(f"{target.url} could not be reached: {_describe(err)}", url=target.url) from None
        return FetchResult(
            url=target.url,
            status=response.status,
            headers=header_map,
            content=body,
            address=backend.connected_to or "",
        )


def split_url(url: str) -> tuple[SplitResult, int | None]:
    """``url`` split into its parts and its explicit port. Raises :class:`BadUrl` for whitespace
    or control characters anywhere in it, or a malformed URL (e.g. a port that is not a number)."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise BadUrl("the URL contains whitespace or control characters", url=url)
    try:
        parts = urlsplit(url)
        return parts, parts.port
    except ValueError as err:
        raise BadUrl(f"malformed URL: {err}", url=url) from None


def url_host(hostname: str, url: str) -> tuple[str, IPAddress | None]:
    """A URL's host as (ASCII name, None) — IDNA-encoded, trailing dot dropped — or, for an IP
    literal, (its text, the address). Raises :class:`BadUrl` for a name IDNA refuses."""
    try:
        literal = ip_address(hostname)
    except ValueError:
        try:
            return hostname.rstrip(".").encode("idna").decode("ascii"), None
        except UnicodeError:
            raise BadUrl(f"invalid host name {hostname!r}", url=url) from None
    return str(literal), literal


def resolve_once(resolver: Resolver, host: str, port: int, timeout: float, *, url: str) -> list[IPAddress]:
    """Resolve ``host`` once with ``resolver`` within ``timeout`` seconds: its distinct IPv4/IPv6
    addresses in answer order. Raises :class:`FetchTimeout` or :class:`Unreachable` (for ``url``).
    The caller vets the addresses and connects to exactly those (no second lookup)."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="skillcred-resolve")
    try:
        future = executor.submit(resolver, host, port, type=socket.SOCK_STREAM)
        infos = future.result(timeout=max(timeout, 0.001))
    except TimeoutError:
        raise FetchTimeout(f"resolving {host} took too long", url=url) from None
    except (OSError, UnicodeError) as err:
        log.info("could not resolve %s: %s", host, err)
        raise Unreachable(f"{host} could not be reached", url=url) from None
    finally:
        executor.shutdown(wait=False)
    addresses: list[IPAddress] = []
    for family, *_rest, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise Unreachable(f"{host} could not be reached", url=url)
    return addresses


def _header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _read_head(response: httpcore.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of the body as sent (no decoding); the rest is not read."""
    body = bytearray()
    for chunk in response.iter_stream():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


def _read_body(response: httpcore.Response, headers: Mapping[str, str], limit: int, url: str) -> bytes:
    """Stream the body, stopping as soon as it exceeds ``limit``; then undo a gzip/deflate coding."""
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"{url} declares {declared} bytes; the cap is {limit}", url=url)
    body = bytearray()
    for chunk in response.iter_stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"{url} sent more than {limit} bytes", url=url)
    coding = headers.get("content-encoding", "identity").strip().lower()
    if coding in ("", "identity"):
        return bytes(body)
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise HttpError(f"{url} used the unsupported content coding {coding!r}", url=url)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in coding else zlib.MAX_WBITS)
    try:
        decoded = inflater.decompress(bytes(body), limit + 1)
    except zlib.error as err:
        raise HttpError(f"{url} sent a broken {coding} body: {err}", url=url) from None
    if len(decoded) > limit:
        raise TooLarge(f"{url} expands beyond {limit} bytes", url=url)
    return decoded


def _describe(err: Exception) -> str:
    """What went wrong, in words that name no address (the log has the detail)."""
    cause = err.__cause__ or err.__context__
    if isinstance(cause, ssl.SSLError):
        return f"TLS handshake failed ({cause.reason or type(cause).__name__})"
    if isinstance(err, httpcore.ConnectError):
        return "the connection failed"
    if isinstance(err, httpcore.ProtocolError):
        return "the server broke the HTTP protocol"
    return type(err).__name__


def _budget(deadline: float, timeout: float | None, exc: type[Exception]) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise exc("the fetch's time budget is spent")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation gets at most the time left in the budget."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _budget(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        budget = _budget(self._deadline, timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, budget), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects the one vetted host name to its vetted addresses only; no DNS lookup happens here."""

    def __init__(self, host: str, addresses: list[IPAddress], deadline: float) -> None:
        self._host = host
        self._addresses = addresses
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()
        self.connected_to: str | None = None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host != self._host:
            raise httpcore.ConnectError(f"refusing to connect to {host!r}: only {self._host!r} was vetted")
        failure: Exception = httpcore.ConnectError(f"{host} has no vetted address")
        for address in self._addresses:
            budget = _budget(self._deadline, timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(str(address), port, budget, socket_options=socket_options)
            except httpcore.ConnectError as err:
                failure = httpcore.ConnectError(f"could not connect to {address} port {port}: {err}")
                continue
            self.connected_to = str(address)
            return _DeadlineStream(stream, self._deadline)
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never used by the fetcher")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
