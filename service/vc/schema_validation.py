"""Open Badges 3.0 JSON Schema validation, offline and JSON-LD tolerant.

The 1EdTech JSON Schemas are vendored (``schemas/1edtech`` in the source tree, ``service/_schemas``
in a wheel) and loaded into a ``referencing.Registry`` whose retrieve function refuses every URI it
does not already hold: a ``$ref`` never triggers a network fetch.

The schemas are written for the compacted, strict form of a credential. Real credentials differ in
two ways that the spec itself treats as equivalent, so :func:`validate_credential` reads them on a
normalised *copy* and reports each deviation as a warning, not an error:

* JSON-LD reading: a single value where the schema wants an array (``"type": "Profile"``, one
  ``proof`` object) is wrapped; a one-element array where the schema wants a single value is
  unwrapped. JSON-LD gives both forms the same meaning: expansion puts every value in an array
  (JSON-LD 1.1 API, Expansion, https://www.w3.org/TR/json-ld11-api/#expansion), and credentials
  from other issuers (DCC's, digitalbazaar's) carry ``proof``, ``type`` and ``@context`` entries as
  single values.
* VCDM 1.1 Open Badges 3.0 (``https://www.w3.org/2018/credentials/v1`` first): the vendored schema
  pins ``@context[0]`` to the VCDM 2.0 URL and requires ``validFrom``. The OB 3.0 spec says these
  credentials use ``issuanceDate``/``expirationDate`` for the same rules, so the copy gets the v2
  context URL, ``issuanceDate`` as ``validFrom`` and ``expirationDate`` as ``validUntil``; errors on
  the mapped fields are reported under their VCDM 1.1 names. Such credentials are still issued
  and must verify, with a warning (VCDM 1.1 ``issuanceDate``,
  https://www.w3.org/TR/vc-data-model-1.1/#issuance-date; VCDM 2.0 validity period,
  https://www.w3.org/TR/vc-data-model-2.0/#validity-period).

A ``credentialStatus`` set (VCDM 2.0) is valid when each member is a valid CredentialStatus.

Two validators, one verdict (issue 15): ``jsonschema-rs`` (compiled, draft 2019-09) answers "valid?"
first, and ``jsonschema`` runs only when it says no, to find the errors, the shapes to fix and the
messages clients see. Only a "valid" from the fast validator is ever trusted, so it may say "invalid"
where ``jsonschema`` says valid (it reads ``pattern`` as ECMA-262 regular expressions: ``\\d`` is
ASCII only and ``$`` does not match before a final newline, JSON Schema 2019-09 Validation 6.3.3)
and the answer is still ``jsonschema``'s. It sees only plain JSON (dict, list, str, int, float, bool,
None; see :func:`_plain_json_copy`): it would read a tuple as an array, which ``jsonschema`` does not.
tests/vc/test_schema_validation.py shows both give the same reports on every fixture and on
generated mutations.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
from jsonschema import Draft201909Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

import service
from service.vc.constants import CREDENTIALS_V1, CREDENTIALS_V2
from service.vc.errors import DocumentLoaderError, SchemaValidationError, VCError

PURL_SCHEMA_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"

_SCHEMA_FILE_BY_KIND = {
    "achievement": "ob_v3p0_achievementcredential_schema.json",
    "endorsement": "endorsementcredential.json",
}
_ACHIEVEMENT_TYPES = frozenset({"AchievementCredential", "OpenBadgeCredential"})
_ENDORSEMENT_TYPE = "EndorsementCredential"
_VCDM_V1_RENAMES = {"validFrom": "issuanceDate", "validUntil": "expirationDate"}
_MAX_NORMALISATION_PASSES = 25
_JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SchemaReport:
    """Schema validation outcome: violations in ``errors``, tolerated deviations in ``warnings``.

    Every message starts with the JSON path it is about (``$.credentialSubject.achievement: ...``).
    ``schema_id`` is the ``$id`` of the schema applied, or ``None`` when none could be chosen.
    """

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    schema_id: str | None = None

    @property
    def valid(self) -> bool:
        """True when there are no errors (warnings do not make a credential invalid)."""
        return not self.errors


def schemas_directory() -> Path:
    """Folder holding the vendored 1EdTech schemas: ``service/_schemas/1edtech`` when installed
    from a wheel, else ``schemas/1edtech`` next to the ``service`` package in the source tree."""
    package_root = Path(service.__file__).resolve().parent
    installed = package_root / "_schemas" / "1edtech"
    if installed.is_dir():
        return installed
    source_tree = package_root.parent / "schemas" / "1edtech"
    if source_tree.is_dir():
        return source_tree
    raise VCError(f"1EdTech JSON Schemas not found at {installed} or {source_tree}", code="schemas_not_bundled")


def refuse_remote_schema(uri: str) -> Resource:
    """The registry's retrieve function: a schema that is not vendored is refused, never fetched."""
    raise DocumentLoaderError(f"JSON Schema {uri!r} is not bundled; remote $ref fetch is refused")


@cache
def _vendored_schemas() -> dict[str, dict[str, Any]]:
    """File name -> parsed schema, for every vendored 1EdTech schema."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(schemas_directory().glob("*.json"))
    }


def _canonical_purl_url(file_name: str, file_names: Iterable[str]) -> str | None:
    """The published purl URL a vendored file stands for (see schemas/SOURCES.md), if any."""
    if file_name.startswith("ob_v3p0_"):
        return PURL_SCHEMA_BASE + file_name
    purl_name = f"ob_v3p0_{file_name.removesuffix('.json')}_schema.json"
    return None if purl_name in file_names else PURL_SCHEMA_BASE + purl_name


@cache
def schema_registry() -> Registry:
    """Registry preloaded with every vendored schema under its ``$id`` and its published purl URL
    (the URL credentials name in ``credentialSchema``); any other URI is refused."""
    schemas = _vendored_schemas()
    resources: dict[str, Resource] = {}
    for file_name, contents in schemas.items():
        resource = Resource.from_contents(contents, default_specification=DRAFT201909)
        resources[contents["$id"]] = resource
        purl_url = _canonical_purl_url(file_name, schemas)
        if purl_url is not None:
            resources.setdefault(purl_url, resource)
    registry: Registry = Registry(retrieve=refuse_remote_schema)  # type: ignore[call-arg]
    return registry.with_resources(resources.items()).crawl()


_RFC3339_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_rfc3339_date_time(value: object) -> bool:
    """True for an RFC 3339 date-time with a zone (``2024-05-01T10:00:00Z``, ``...+02:00``)."""
    if not isinstance(value, str):
        return True  # JSON Schema formats only constrain strings
    match = _RFC3339_DATE_TIME.fullmatch(value)
    if match is None:
        return False
    day, clock, fraction, zone = match.groups()
    fraction = (fraction or "")[:7]  # Python parses at most microseconds
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        datetime.fromisoformat(f"{day}T{clock}{fraction}{zone}")
    except ValueError:
        return False
    return True


def _is_full_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if _FULL_DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    """Our own checks: ``date-time`` is enforced with or without jsonschema's optional extras."""
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_rfc3339_date_time)
    checker.checks("date")(_is_full_date)
    return checker


@cache
def _validator(kind: str) -> Draft201909Validator:
    schema = _vendored_schemas()[_SCHEMA_FILE_BY_KIND[kind]]
    return Draft201909Validator(schema, registry=schema_registry(), format_checker=_format_checker())


def _refuse_remote_schema_rs(uri: str) -> Any:
    raise DocumentLoaderError(f"JSON Schema {uri!r} is not bundled; remote $ref fetch is refused")


@cache
def _fast_registry() -> jsonschema_rs.Registry:
    """The same schemas under the same URIs as :func:`schema_registry`, for ``jsonschema-rs``."""
    schemas = _vendored_schemas()
    resources: dict[str, Any] = {}
    for file_name, contents in schemas.items():
        resources[contents["$id"]] = contents
        purl_url = _canonical_purl_url(file_name, schemas)
        if purl_url is not None:
            resources.setdefault(purl_url, contents)
    return jsonschema_rs.Registry(
        resources.items(), draft=jsonschema_rs.Draft201909, retriever=_refuse_remote_schema_rs
    )


def _fast(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A compiled validator of ``schema`` with our ``date-time`` and ``date`` checks and no other
    format checks, as :func:`_format_checker`; ``$ref`` resolves from the vendored schemas only."""
    return jsonschema_rs.Draft201909Validator(
        schema,
        registry=_fast_registry(),
        retriever=_refuse_remote_schema_rs,
        validate_formats=True,
        ignore_unknown_formats=True,
        formats={"date-time": is_rfc3339_date_time, "date": _is_full_date},
    )


@cache
def _fast_validator(kind: str) -> jsonschema_rs.Validator:
    return _fast(_vendored_schemas()[_SCHEMA_FILE_BY_KIND[kind]])


def _fast_says_valid(validator: jsonschema_rs.Validator | None, instance: Any) -> bool:
    """True only when ``jsonschema-rs`` accepts ``instance``; False means "ask ``jsonschema``"."""
    if validator is None:
        return False
    try:
        return validator.is_valid(instance)
    except ValueError:  # text it cannot hold (a lone surrogate: UnicodeEncodeError)
        return False


class _NotPlainJson(Exception):
    pass


_PLAIN_SCALARS = (str, bool, type(None))
_I64 = range(-(2**63), 2**63)


def _copy_plain(node: Any, seen: set[int]) -> Any:
    kind = type(node)
    if kind is dict or kind is list:
        if id(node) in seen:  # shared or cyclic: copy.deepcopy keeps the sharing, this would not
            raise _NotPlainJson
        seen.add(id(node))
        if kind is list:
            return [_copy_plain(item, seen) for item in node]
        copied = {}
        for key, value in node.items():
            if type(key) is not str:
                raise _NotPlainJson
            copied[key] = _copy_plain(value, seen)
        return copied
    if kind in _PLAIN_SCALARS or (kind is int and node in _I64) or (kind is float and math.isfinite(node)):
        return node
    raise _NotPlainJson


def _check_plain(node: dict[str, Any] | list[Any], seen: set[int]) -> bool:
    """:func:`_copy_plain` of an object or array without the copy: raises
    :class:`_NotPlainJson` where it would, and returns whether any object in ``node`` is a
    VCDM 1.1 credential (one that :func:`_normalise_vcdm_v1` would rewrite). Scalars are checked
    in the loop, containers by a call each."""
    if id(node) in seen:  # shared or cyclic
        raise _NotPlainJson
    seen.add(id(node))
    vcdm_v1 = False
    if type(node) is dict:
        for key in node:
            if type(key) is not str:
                raise _NotPlainJson
        values: Iterable[Any] = node.values()
    else:
        values = node
    for value in values:
        kind = type(value)
        if kind is dict or kind is list:
            if _check_plain(value, seen):
                vcdm_v1 = True
        elif not (
            kind in _PLAIN_SCALARS or (kind is int and value in _I64) or (kind is float and math.isfinite(value))
        ):
            raise _NotPlainJson
    return vcdm_v1 or (type(node) is dict and _first_context(node) == CREDENTIALS_V1)


def _plain_json_copy(doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A deep copy of ``doc``, and whether it holds only what JSON parsing produces (exact dict
    and list, no object twice, str keys, 64-bit ints, finite floats): the only documents the fast
    validator sees. Anything else is copied by :func:`copy.deepcopy` and left to ``jsonschema``."""
    try:
        return _copy_plain(doc, set()), True
    except (_NotPlainJson, RecursionError):  # too deep: as deep for copy.deepcopy, which decides
        return copy.deepcopy(doc), False


def _credential_kind(type_value: object) -> str | None:
    values = [type_value] if isinstance(type_value, str) else type_value if isinstance(type_value, list) else []
    types = {value for value in values if isinstance(value, str)}  # a list or object in the list names no type
    if types & _ACHIEVEMENT_TYPES:
        return "achievement"
    if _ENDORSEMENT_TYPE in types:
        return "endorsement"
    return None


def json_path(parts: Iterable[str | int]) -> str:
    """Render a path as JSONPath: ``$.credentialSubject.result[0]``, ``$['@context'][0]``."""
    rendered = "$"
    for part in parts:
        if isinstance(part, int):
            rendered += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            rendered += f".{part}"
        else:
            rendered += f"['{part}']"
    return rendered


def _first_context(node: Mapping[str, Any]) -> object:
    contexts = node.get("@context")
    return contexts[0] if isinstance(contexts, list) and contexts else contexts


def _normalise_vcdm_v1(node: Any, path: _JsonPath, warnings: list[str], renames: dict[str, str]) -> None:
    """Rewrite every VCDM 1.1 credential in ``node`` (in place) to the VCDM 2.0 names."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _normalise_vcdm_v1(item, (*path, index), warnings, renames)
        return
    if not isinstance(node, dict):
        return
    if _first_context(node) == CREDENTIALS_V1:
        contexts = node["@context"]
        node["@context"] = [CREDENTIALS_V2, *contexts[1:]] if isinstance(contexts, list) else CREDENTIALS_V2
        for new_name, old_name in _VCDM_V1_RENAMES.items():
            if new_name not in node:  # a native validFrom/validUntil keeps its own name
                if old_name in node:
                    node[new_name] = node.pop(old_name)
                renames[json_path((*path, new_name))] = json_path((*path, old_name))
        warnings.append(
            f"{json_path(path)}: VCDM 1.1 credential ({CREDENTIALS_V1}); checked against the "
            "OB 3.0 schema with issuanceDate read as validFrom and expirationDate as validUntil"
        )
    for key, value in node.items():
        _normalise_vcdm_v1(value, (*path, key), warnings, renames)


def _all_errors(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    """Errors and, recursively, the branch errors of oneOf/anyOf/allOf."""
    for error in errors:
        yield error
        yield from _all_errors(error.context or ())


def _shape_fix(error: ValidationError) -> str | None:
    """'wrap' or 'unwrap' when ``error`` is only a single-value-versus-array difference."""
    if error.validator != "type":
        return None
    expected: Any = error.validator_value  # jsonschema types it Any | Unset; a "type" error always has one
    expected_types = [expected] if isinstance(expected, str) else list(expected)
    if "array" in expected_types and not isinstance(error.instance, list):
        return "wrap"
    if (
        isinstance(error.instance, list)
        and len(error.instance) == 1
        and "array" not in expected_types
        and any(Draft201909Validator.TYPE_CHECKER.is_type(error.instance[0], t) for t in expected_types)
    ):
        return "unwrap"
    return None


def _apply_shape_fix(document: Any, path: _JsonPath, fix: str) -> None:
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    value = parent[path[-1]]
    parent[path[-1]] = [value] if fix == "wrap" else value[0]


def _validate_json_ld_tolerant(
    validator: Draft201909Validator,
    document: Any,
    warnings: list[str],
    fast: jsonschema_rs.Validator | None = None,
) -> list[ValidationError]:
    """Validate, wrapping/unwrapping single values (with warnings) until only real errors remain.

    ``fast``, when given, is asked first on each pass: its "valid" ends the loop with no errors,
    which is what ``validator`` would find (see the module docstring)."""
    errors: list[ValidationError] = []
    for _ in range(_MAX_NORMALISATION_PASSES):
        if _fast_says_valid(fast, document):
            return []
        errors = list(validator.iter_errors(document))
        fixes: dict[_JsonPath, str] = {}
        for error in _all_errors(errors):
            fix = _shape_fix(error)
            path = tuple(error.absolute_path)
            if fix is not None and path and path not in fixes:
                fixes[path] = fix
        if not fixes:
            break
        for path, fix in fixes.items():
            _apply_shape_fix(document, path, fix)
            warnings.append(
                f"{json_path(path)}: a single value where the schema expects an array (accepted: "
                "JSON-LD reads both the same)"
                if fix == "wrap"
                else f"{json_path(path)}: a one-element array where the schema expects a single value "
                "(accepted: JSON-LD reads both the same)"
            )
    return errors


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _closest_branch(error: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf: the errors of the branch whose shape matches the instance best."""
    branches: dict[int | str, list[ValidationError]] = {}
    for sub_error in error.context or ():
        branches.setdefault(sub_error.relative_schema_path[0], []).append(sub_error)
    same_shape = [
        branch for branch in branches.values() if not any(e.validator == "type" and not e.relative_path for e in branch)
    ]
    return min(same_shape, key=len) if same_shape else []


def _describe(error: ValidationError) -> list[str]:
    """Short, path-first messages (jsonschema's own messages can embed whole sub-documents)."""
    path = tuple(error.absolute_path)
    where = json_path(path)
    kind = error.validator
    # jsonschema types both as ``Any | Unset``; every error its validators raise carries them.
    value: Any = error.validator_value
    instance: Any = error.instance
    if kind in ("oneOf", "anyOf"):
        branch = _closest_branch(error)
        if branch:
            return [message for sub_error in branch for message in _describe(sub_error)]
        return [f"{where}: {_json_type(instance)} value matches none of the allowed forms"]
    if kind == "required":
        return [f"{json_path((*path, name))}: required property is missing" for name in value if name not in instance]
    if kind == "type":
        return [f"{where}: expected {value}, got {_json_type(instance)}"]
    if kind == "contains":
        wanted = value.get("enum", value)
        return [f"{where}: must contain {_short(wanted)}"]
    if kind == "enum":
        return [f"{where}: {_short(instance)} is not one of {_short(value)}"]
    if kind == "format":
        return [f"{where}: {_short(instance)} is not a valid {value}"]
    if kind == "pattern":
        return [f"{where}: {_short(instance)} does not match {value!r}"]
    if kind == "minItems":
        return [f"{where}: expected at least {value} item(s), got {len(instance)}"]
    if kind == "additionalProperties":
        return [f"{where}: {error.message}"]
    detail = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return [f"{where}: {detail}"]


def _rename_paths(message: str, renames: Mapping[str, str]) -> str:
    where, _, detail = message.partition(": ")
    for new_path, old_path in renames.items():
        if where == new_path or where.startswith((new_path + ".", new_path + "[")):
            return old_path + where[len(new_path) :] + ": " + detail
    return message


def _status_schema(kind: str) -> dict[str, Any]:
    schema_id = cast(Mapping[str, Any], _validator(kind).schema)["$id"]
    return {"$ref": f"{schema_id}#/$defs/CredentialStatus"}


@cache
def _status_validator(kind: str) -> Draft201909Validator:
    return Draft201909Validator(_status_schema(kind), registry=schema_registry(), format_checker=_format_checker())


@cache
def _fast_status_validator(kind: str) -> jsonschema_rs.Validator:
    return _fast(_status_schema(kind))


def _status_set_errors(kind: str, document: dict[str, Any], fast: bool) -> list[str]:
    """VCDM 2.0 allows a set of ``credentialStatus`` entries (a revocation and a suspension
    entry, say) where the 1EdTech schema has one CredentialStatus. A set of two or more is
    checked member by member against CredentialStatus, then taken off the copy so the rest of
    the schema applies; no warning (it is what the data model says)."""
    statuses = document.get("credentialStatus")
    if not isinstance(statuses, list) or len(statuses) < 2:
        return []  # one entry, or a one-element array (read as one entry, with a warning)
    del document["credentialStatus"]
    validator = _status_validator(kind)
    fast_validator = _fast_status_validator(kind) if fast else None
    return [
        json_path(("credentialStatus", index)) + message[1:]
        for index, status in enumerate(statuses)
        if not _fast_says_valid(fast_validator, status)
        for error in validator.iter_errors(status)
        for message in _describe(error)
    ]


def _recipient_rule(kind: str, document: Mapping[str, Any]) -> list[str]:
    """OB 3.0 verification step 1, which the JSON Schema cannot say: the subject is identified."""
    subject = document.get("credentialSubject")
    if kind == "achievement" and isinstance(subject, Mapping) and "id" not in subject and not subject.get("identifier"):
        return ["$.credentialSubject: needs an id or an identifier (OB 3.0 requires one of them)"]
    return []


def validate_credential(doc: Mapping[str, Any], *, reference_only: bool = False) -> SchemaReport:
    """Validate an Open Badges 3.0 credential against the vendored 1EdTech JSON Schema.

    The schema is chosen by ``type``: AchievementCredential/OpenBadgeCredential or
    EndorsementCredential. ``doc`` is not modified. Single values where the schema wants arrays
    (and one-element arrays where it wants a single value) are accepted with a warning naming the
    JSON path, as JSON-LD reads them the same. A VCDM 1.1 credential is accepted with a warning:
    its copy gets the VCDM 2.0 context URL, ``issuanceDate`` as ``validFrom`` and
    ``expirationDate`` as ``validUntil`` (the equivalent rules the OB 3.0 spec names), and errors
    on those fields carry the VCDM 1.1 names. Anything else the schema rejects is an error, and so
    is an AchievementSubject with neither ``id`` nor ``identifier`` (an OB 3.0 rule the schema
    does not express).

    The report is the same with or without the compiled ``jsonschema-rs`` validator;
    ``reference_only=True`` leaves it out (``jsonschema`` alone), for differential tests.
    """
    if not isinstance(doc, Mapping):
        return SchemaReport(errors=(f"$: expected a JSON object, got {_json_type(doc)}",))
    if not reference_only:
        accepted = _accepted_as_is(dict(doc))
        if accepted is not None:
            return accepted
    document, plain = _plain_json_copy(dict(doc))
    fast = plain and not reference_only
    warnings: list[str] = []
    renames: dict[str, str] = {}
    _normalise_vcdm_v1(document, (), warnings, renames)
    kind = _credential_kind(document.get("type"))
    if kind is None:
        return SchemaReport(
            errors=(
                "$.type: not an Open Badges 3.0 credential (type must include "
                "OpenBadgeCredential, AchievementCredential or EndorsementCredential)",
            ),
            warnings=tuple(warnings),
        )
    validator = _validator(kind)
    status_errors = _status_set_errors(kind, document, fast)
    errors = _validate_json_ld_tolerant(validator, document, warnings, _fast_validator(kind) if fast else None)
    messages = _unique(
        [
            *(
                _rename_paths(message, renames)
                for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))
                for message in _describe(error)
            ),
            *status_errors,
            *_recipient_rule(kind, document),
        ]
    )
    return SchemaReport(
        errors=messages, warnings=_unique(warnings), schema_id=cast(Mapping[str, Any], validator.schema)["$id"]
    )


def _accepted_as_is(doc: dict[str, Any]) -> SchemaReport | None:
    """The report of :func:`validate_credential` for a credential the fast validator accepts
    as it is, without copying it; None when the full steps are needed.

    That is the report the full steps give when nothing would change the copy: plain JSON (the
    checks of :func:`_copy_plain`), no VCDM 1.1 credential in it (no rewrite), an Open Badges
    type, no ``credentialStatus`` set (not taken off), and the fast validator's "valid" on the
    first pass (no wrapping or unwrapping, so no warning): only the recipient rule can remain.
    """
    try:
        if _check_plain(doc, set()):
            return None
    except (_NotPlainJson, RecursionError):
        return None
    kind = _credential_kind(doc.get("type"))
    if kind is None:
        return None
    statuses = doc.get("credentialStatus")
    if isinstance(statuses, list) and len(statuses) >= 2:
        return None
    if not _fast_says_valid(_fast_validator(kind), doc):
        return None
    return SchemaReport(
        errors=_unique(_recipient_rule(kind, doc)),
        warnings=(),
        schema_id=cast(Mapping[str, Any], _validator(kind).schema)["$id"],
    )


def validate_credential_strict(doc: Mapping[str, Any]) -> SchemaReport:
    """Like :func:`validate_credential`, but raise :class:`SchemaValidationError` on any error.

    Returns the report (its warnings may still be of interest) when the credential is valid.
    """
    report = validate_credential(doc)
    if not report.valid:
        raise SchemaValidationError(
            f"credential does not conform to the Open Badges 3.0 JSON Schema: {report.errors[0]}"
            + (f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""),
            list(report.errors),
        )
    return report


def _unique(messages: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(messages))


__all__ = [
    "PURL_SCHEMA_BASE",
    "SchemaReport",
    "is_rfc3339_date_time",
    "json_path",
    "refuse_remote_schema",
    "schema_registry",
    "schemas_directory",
    "validate_credential",
    "validate_credential_strict",
]
