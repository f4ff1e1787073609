"""Bulk issuance routes: submit a file of rows (``POST /v1/bulk/credentials``), follow its job
(``GET /v1/jobs/{job_id}``) and download its per-row results (``GET /v1/jobs/{job_id}/results``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status
from fastapi.responses import JSONResponse, StreamingResponse

from service.api.auth import CredentialIssuer, JobReader
from service.api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from service.api.errors import error_body, error_responses
from service.bulk import parsing, service, views
from service.bulk.schemas import JobOut
from service.core.errors import ServiceError, UnsupportedMediaType

router = APIRouter(prefix="/v1", tags=["bulk"])

JobId = Annotated[str, Path(min_length=1, max_length=36, description="The job's id")]

_ROW_KEYS = "recipient_email or recipient_did, achievement_id, and optionally valid_until and external_id"
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "description": f"A header row naming {_ROW_KEYS}, then rows"}},
            "application/x-ndjson": {
                "schema": {"type": "string", "description": f"One JSON object per line: {_ROW_KEYS}, results, evidence"}
            },
            "application/jsonl": {"schema": {"type": "string"}},
        },
    }
}


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/bulk/credentials",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 413, 415, 422),
    openapi_extra=_BODY_DOC,
)
def submit_bulk_issuance(
    request: Request,
    body: Annotated[bytes, Depends(_raw_body)],
    session: SessionDep,
    account: CredentialIssuer,
    settings: SettingsDep,
    clock: ClockDep,
) -> JSONResponse:
    """Issue credentials for every row of a file: CSV (`text/csv`, a header row
    `recipient_email,achievement_id[,valid_until,external_id]`, or `recipient_did`) or JSON lines
    (`application/x-ndjson` or `application/jsonl`, the same keys plus optional `results` and
    `evidence` as `POST /v1/credentials` takes them). Up to 100,000 rows, of one issuer's
    achievements (issuer admins: their own issuer's).

    A file that cannot be read as either (not UTF-8, no header row, a line that is not JSON) is
    422 `invalid_file`. Every row is checked before anything is stored: any invalid row is 422 `invalid_rows` with
    `rows: [{"row", "error"}]` (row numbers as in the file; a CSV header is row 1). Accepted, the
    answer is 202 with the job (`Location: /v1/jobs/{job_id}`); workers issue the rows.
    `external_id` is unique per issuer: a row whose id was already issued (by this or an earlier
    file) reports that credential instead of issuing a second one."""
    kind = parsing.media_kind(request.headers.get("content-type"))
    if kind is None:
        raise UnsupportedMediaType("Send text/csv or application/x-ndjson (JSON lines)")
    try:
        parsed = parsing.parse(body, kind)
    except parsing.FileError as err:
        raise ServiceError(f"The file cannot be read: {err}", code="invalid_file", status_code=422) from None
    now = clock.now()
    try:
        job = service.submit(session, settings, account, parsed, now=now)
    except service.InvalidRows as err:
        content = error_body(err.code, err.detail) | {"rows": [{"row": r, "error": e} for r, e in err.rows]}
        return JSONResponse(content, status_code=422)
    out = views.job_out(job, {}, now=now)
    return JSONResponse(out.model_dump(mode="json"), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("/jobs/{job_id}", response_model=JobOut, responses=error_responses(401, 403, 404))
def get_job(job_id: JobId, session: SessionDep, account: JobReader, clock: ClockDep) -> JobOut:
    """A bulk job's state and progress: `total`, `done` (issued), `failed`, `eta_seconds`.
    The job's issuer's admins and admins; others 404."""
    job = service.get_job(session, account, job_id)
    return views.job_out(job, service.counts(session, job.id), now=clock.now())


@router.get(
    "/jobs/{job_id}/results",
    responses=error_responses(401, 403, 404)
    | {200: {"content": {"application/x-ndjson": {}, "text/csv": {}}, "description": "One result per row"}},
)
def get_job_results(
    job_id: JobId,
    session: SessionDep,
    engine: EngineDep,
    account: JobReader,
    settings: SettingsDep,
    accept: Annotated[str | None, Header()] = None,
    format: Annotated[Literal["jsonl", "csv"] | None, Query(description="jsonl (default) or csv")] = None,
) -> StreamingResponse:
    """Every row's result, in file order: `row`, `external_id`, `state` (issued, failed or still
    pending), `credential_id`, `credential_url`, `error`. JSON lines by default; CSV with
    `Accept: text/csv` or `?format=csv`. Streamed, read from the database in batches."""
    job = service.get_job(session, account, job_id)
    as_csv = format == "csv" or (format is None and "text/csv" in (accept or ""))
    results = service.iter_results(engine, settings, job.id)
    if as_csv:
        return StreamingResponse(
            views.csv_lines(results),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="bulk-{job.id}.csv"'},
        )
    return StreamingResponse(views.jsonl_lines(results), media_type="application/x-ndjson")
