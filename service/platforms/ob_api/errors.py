"""Errors of the Open Badges 3.0 REST API: every error under ``/ims/ob/v3p0`` is an
``Imsx_StatusInfo`` (OB 3.0 section 6, the OpenAPI document's ``Imsx_StatusInfo``), not the
service's ``{"error", "detail"}``. :mod:`service.api.errors` renders errors on these paths with
:func:`status_info`. No FastAPI here.

``imsx_codeMinorFieldValue`` is the OB vocabulary's word for the HTTP status; the description is
the service's own detail. ``imsx_codeMinorFieldName`` names the system that produced the report
(``TargetEndSystem``, as 1EdTech's services document it).
"""

from __future__ import annotations

from typing import Any

OB_PREFIX = "/ims/ob/v3p0"
"""Where the Open Badges 3.0 REST API lives."""

CODE_MINOR_FIELD_NAME = "TargetEndSystem"

_CODE_MINOR_BY_STATUS = {
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    409: "invalid_data",
    413: "invalid_data",
    415: "invalid_data",
    422: "invalid_data",
    429: "server_busy",
    500: "internal_server_error",
    503: "server_busy",
}


def is_ob_path(path: str) -> bool:
    """Whether a request path is under the Open Badges 3.0 REST API."""
    return path == OB_PREFIX or path.startswith(OB_PREFIX + "/")


def code_minor(status_code: int) -> str:
    """The OB code minor value for an HTTP error status (``unknown`` for one it has no word for)."""
    return _CODE_MINOR_BY_STATUS.get(status_code, "unknown")


def status_info(status_code: int, description: str, *, code_minor_value: str | None = None) -> dict[str, Any]:
    """An ``Imsx_StatusInfo`` error body: code major ``failure``, severity ``error``, the
    ``description`` and one code minor field (``code_minor_value``, else the status's word)."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": CODE_MINOR_FIELD_NAME,
                    "imsx_codeMinorFieldValue": code_minor_value or code_minor(status_code),
                }
            ]
        },
    }
