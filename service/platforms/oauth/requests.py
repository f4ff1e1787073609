"""Authlib's request objects, built from what a FastAPI route read off the HTTP request.

Routes read the form, query and JSON body themselves (they are async in Starlette) and hand a
:class:`ProtocolRequest` to the server, which runs in a worker thread with a database session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request


@dataclass(frozen=True)
class ProtocolRequest:
    """An HTTP request as the OAuth endpoints need it: ``uri`` is the public URL of the endpoint,
    ``form`` and ``args`` keep repeated parameters (Authlib refuses a repeated one)."""

    method: str
    uri: str
    headers: Mapping[str, str]
    form: list[tuple[str, str]] = field(default_factory=list)
    args: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None


ECHOED_PARAMETERS = frozenset({"response_type", "grant_type", "redirect_uri"})
"""Parameters Authlib 1.6 quotes in an error's ``error_description``."""
UNREADABLE = "(unreadable)"


def echo_safe(key: str, value: str) -> str:
    r"""``value``, or :data:`UNREADABLE` for an echoed parameter with a character RFC 6749 section
    4.1.2.1 forbids in ``error_description`` (outside %x20-21 / %x23-5B / %x5D-7E).

    Authlib 1.6 quotes ``response_type``, ``grant_type`` and ``redirect_uri`` in the description of
    the error that refuses them, then refuses its own description with a ``ValueError`` when it
    holds such a character (authlib/authlib pull request 728): the client would get a 500 instead
    of the protocol's error. No valid value of these parameters has one (response and grant types
    are ASCII tokens, RFC 3986 URIs have no raw ``"``, ``\`` or non-ASCII), so the marker is refused
    for the same reason the value would have been."""
    if key in ECHOED_PARAMETERS and any(not (0x20 <= ord(c) <= 0x7E) or c in '"\\' for c in value):
        return UNREADABLE
    return value


class _Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(echo_safe(key, value))
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class FormRequest(OAuth2Request):
    """Authlib's OAuth2Request over a :class:`ProtocolRequest` (query and form parameters)."""

    def __init__(self, request: ProtocolRequest) -> None:
        # OAuth2Request.__init__ refuses a plain-http URI unless an environment variable says
        # otherwise, for the whole process; the transport is the deployment's concern here (the
        # public URL must be https in production, service/core/config.py), so the attributes are
        # set directly.
        self.method = request.method
        self.uri = request.uri
        self.headers = request.headers
        self._body = None
        self.payload = _Payload([*request.args, *request.form])
        self._args = dict(request.args)
        self._form = dict(request.form)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _Json(JsonPayload):
    def __init__(self, data: Any) -> None:
        self._json = data

    @property
    def data(self) -> Any:
        return self._json


class BodyJsonRequest(JsonRequest):
    """Authlib's JsonRequest over a :class:`ProtocolRequest` (client registration)."""

    def __init__(self, request: ProtocolRequest) -> None:
        super().__init__(request.method, request.uri, request.headers)
        self.payload = _Json(request.json if isinstance(request.json, dict) else {})
