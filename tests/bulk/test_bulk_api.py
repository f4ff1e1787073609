"""POST /v1/bulk/credentials, GET /v1/jobs/{id} and its results: the bulk issuance contract."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from tests.bulk.conftest import wait_for_job

CSV = {"Content-Type": "text/csv"}
JSONL = {"Content-Type": "application/x-ndjson"}


def _csv(*rows: str, header: str = "recipient_email,achievement_id,valid_until,external_id") -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def _count(app, table: str) -> int:
    with app.state.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _setup(api, **achievement: object):
    issuer = api.create_issuer()
    return issuer, api.create_achievement(issuer["id"], **achievement)


def test_a_file_with_bad_rows_is_refused_with_their_row_numbers_and_nothing_is_stored(app, api):
    issuer, achievement = _setup(api)
    other = api.create_achievement(api.create_issuer(name="Other")["id"])
    body = _csv(
        f"ok@example.com,{achievement['id']},,a-1",
        f"not-an-email,{achievement['id']},,a-2",
        f"past@example.com,{achievement['id']},2001-01-01T00:00:00Z,a-3",
        f"naive@example.com,{achievement['id']},2099-01-01T00:00:00,a-4",
        f"dup@example.com,{achievement['id']},,a-1",
        "nobody@example.com,no-such-achievement,,a-6",
        f"mixed@example.com,{other['id']},,a-7",
    )
    response = api.client.post("/v1/bulk/credentials", content=body, headers=CSV | api.admin)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_rows"
    rows = {r["row"]: r["error"] for r in answer["rows"]}
    assert sorted(rows) == [3, 4, 5, 6, 7, 8]  # the header is row 1, the first (valid) row is row 2
    assert "recipient_email" in rows[3]
    assert "future" in rows[4]
    assert "time zone" in rows[5]
    assert "repeated" in rows[6]
    assert "no such achievement" in rows[7]
    assert "same issuer" in rows[8]
    assert _count(app, "bulkjob") == 0 and _count(app, "bulkrow") == 0 and _count(app, "credential") == 0


def test_jsonl_rows_are_numbered_by_line_and_their_results_are_checked(app, api):
    issuer, achievement = _setup(api)
    lines = [
        json.dumps({"recipient_email": "a@example.com", "achievement_id": achievement["id"]}),
        "",
        "{not json",
        json.dumps(
            {
                "recipient_email": "b@example.com",
                "achievement_id": achievement["id"],
                "results": [{"result_description": "no such description", "value": "A"}],
            }
        ),
        json.dumps({"recipient_did": "did:example:123", "recipient_email": "c@example.com", "achievement_id": "x"}),
    ]
    response = api.client.post("/v1/bulk/credentials", content="\n".join(lines).encode(), headers=JSONL | api.admin)
    assert response.status_code == 422, response.text
    rows = {r["row"]: r["error"] for r in response.json()["rows"]}
    assert sorted(rows) == [3, 4, 5]
    assert "not a result description" in rows[4]
    assert _count(app, "bulkrow") == 0


def test_a_file_that_cannot_be_read_is_refused(api):
    _, achievement = _setup(api)
    refused = api.client.post("/v1/bulk/credentials", content=b"a,b\n1,2\n", headers=CSV | api.admin)
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_file"
    wrong_type = api.client.post(
        "/v1/bulk/credentials", content=b"{}", headers={"Content-Type": "application/json"} | api.admin
    )
    assert wrong_type.status_code == 415


def test_a_csv_file_is_issued_end_to_end_and_its_results_download_as_jsonl_and_csv(app, api):
    issuer, achievement = _setup(api)
    body = _csv(
        *(f"earner{i}@example.com,{achievement['id']},2099-01-01T00:00:00Z,ext-{i}" for i in range(7)),
    )
    response = api.client.post("/v1/bulk/credentials", content=body, headers=CSV | api.admin)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "queued" and job["total"] == 7
    assert response.headers["Location"] == f"/v1/jobs/{job['job_id']}"

    final = wait_for_job(api.client, job["job_id"], api.admin)
    assert final["kind"] == "bulk_issuance"
    assert (final["state"], final["done"], final["failed"]) == ("succeeded", 7, 0)
    assert final["finished_at"] is not None and final["started_at"] is not None

    results = api.client.get(f"/v1/jobs/{job['job_id']}/results", headers=api.admin)
    assert results.status_code == 200 and results.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in results.text.splitlines()]
    assert [r["row"] for r in lines] == list(range(2, 9))
    assert [r["external_id"] for r in lines] == [f"ext-{i}" for i in range(7)]
    assert all(r["state"] == "issued" and r["error"] is None for r in lines)
    assert len({r["credential_id"] for r in lines}) == 7
    credential = api.client.get(f"/v1/credentials/{lines[0]['credential_id']}", headers=api.admin)
    assert credential.status_code == 200
    assert credential.json()["url"] == lines[0]["credential_url"]

    as_csv = api.client.get(f"/v1/jobs/{job['job_id']}/results", headers=api.admin | {"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["credential_id"] for row in table] == [r["credential_id"] for r in lines]
    assert table[0]["error"] == ""
    by_query = api.client.get(f"/v1/jobs/{job['job_id']}/results?format=csv", headers=api.admin)
    assert by_query.text == as_csv.text
    assert _count(app, "credential") == 7


def test_a_jsonl_file_with_dids_results_and_evidence_is_issued(app, api):
    issuer, achievement = _setup(
        api,
        result_descriptions=[{"name": "Grade", "result_type": "LetterGrade", "allowed_values": ["A", "B"]}],
    )
    rows = [
        {
            "recipient_did": "did:example:holder1",
            "achievement_id": achievement["id"],
            "results": [{"result_description": "Grade", "value": "A"}],
            "evidence": [{"id": "https://example.com/work/1", "name": "Project"}],
        },
        {"recipient_email": "jl@example.com", "achievement_id": achievement["id"], "external_id": "j-2"},
    ]
    body = "\n".join(json.dumps(r) for r in rows).encode()
    response = api.client.post(
        "/v1/bulk/credentials", content=body, headers={"Content-Type": "application/jsonl"} | api.admin
    )
    assert response.status_code == 202, response.text
    final = wait_for_job(api.client, response.json()["job_id"], api.admin)
    assert (final["state"], final["done"]) == ("succeeded", 2)
    results = [
        json.loads(x)
        for x in api.client.get(f"/v1/jobs/{final['job_id']}/results", headers=api.admin).text.splitlines()
    ]
    document = api.client.get(f"/v1/credentials/{results[0]['credential_id']}/jsonld", headers=api.admin).json()
    assert document["credentialSubject"]["id"] == "did:example:holder1"
    assert document["credentialSubject"]["result"][0]["value"] == "A"
    assert document["evidence"][0]["id"] == "https://example.com/work/1"


def test_an_external_id_is_issued_once_per_issuer_across_files(app, api):
    issuer, achievement = _setup(api, allow_multiple_active=True)
    first = api.client.post(
        "/v1/bulk/credentials", content=_csv(f"once@example.com,{achievement['id']},,order-1"), headers=CSV | api.admin
    )
    wait_for_job(api.client, first.json()["job_id"], api.admin)
    again = api.client.post(
        "/v1/bulk/credentials",
        content=_csv(f"once@example.com,{achievement['id']},,order-1", f"new@example.com,{achievement['id']},,order-2"),
        headers=CSV | api.admin,
    )
    final = wait_for_job(api.client, again.json()["job_id"], api.admin)
    assert (final["state"], final["done"], final["failed"]) == ("succeeded", 2, 0)
    earlier = [
        json.loads(x)
        for x in api.client.get(f"/v1/jobs/{first.json()['job_id']}/results", headers=api.admin).text.splitlines()
    ]
    later = [
        json.loads(x)
        for x in api.client.get(f"/v1/jobs/{final['job_id']}/results", headers=api.admin).text.splitlines()
    ]
    assert later[0]["credential_id"] == earlier[0]["credential_id"]  # reported, not issued again
    assert _count(app, "credential") == 2


def test_a_row_that_cannot_be_issued_fails_alone_and_the_job_goes_on(app, api):
    issuer, achievement = _setup(api)
    api.issue(achievement["id"], {"email": "holder@example.com"})  # holds the one active credential
    body = _csv(f"holder@example.com,{achievement['id']},,", f"fresh@example.com,{achievement['id']},,")
    response = api.client.post("/v1/bulk/credentials", content=body, headers=CSV | api.admin)
    final = wait_for_job(api.client, response.json()["job_id"], api.admin)
    assert (final["state"], final["done"], final["failed"]) == ("succeeded", 1, 1)
    results = [
        json.loads(x)
        for x in api.client.get(f"/v1/jobs/{final['job_id']}/results", headers=api.admin).text.splitlines()
    ]
    assert results[0]["state"] == "failed" and "already holds" in results[0]["error"]
    assert results[1]["state"] == "issued"


def test_issuer_admins_bulk_issue_only_their_issuer_s_achievements_and_see_only_its_jobs(app, api):
    issuer, achievement = _setup(api)
    other_issuer, other_achievement = _setup(api)
    own_admin = api.create_account("issuer_admin", issuer["id"])
    other_admin = api.create_account("issuer_admin", other_issuer["id"])
    reviewer = api.create_account("reviewer", issuer["id"])

    foreign = api.client.post(
        "/v1/bulk/credentials", content=_csv(f"x@example.com,{other_achievement['id']},,"), headers=CSV | own_admin
    )
    assert foreign.status_code == 422 and "no such achievement" in foreign.json()["rows"][0]["error"]
    assert api.client.post("/v1/bulk/credentials", content=b"", headers=CSV | reviewer).status_code == 403
    assert api.client.post("/v1/bulk/credentials", content=b"", headers=CSV).status_code == 401

    accepted = api.client.post(
        "/v1/bulk/credentials", content=_csv(f"x@example.com,{achievement['id']},,"), headers=CSV | own_admin
    )
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    wait_for_job(api.client, job_id, own_admin)
    assert api.client.get(f"/v1/jobs/{job_id}", headers=api.admin).status_code == 200
    for stranger in (other_admin, reviewer):
        assert api.client.get(f"/v1/jobs/{job_id}", headers=stranger).status_code in (403, 404)
    assert api.client.get(f"/v1/jobs/{job_id}", headers=other_admin).status_code == 404
    assert api.client.get(f"/v1/jobs/{job_id}/results", headers=other_admin).status_code == 404
    assert api.client.get("/v1/jobs/no-such-job", headers=api.admin).status_code == 404


def test_a_row_the_signer_refuses_fails_alone_and_the_others_are_issued(app, api, monkeypatch):
    from service.bulk import issuing
    from service.credentials.errors import InvalidCredentialRequest

    real_sign, calls = issuing.sign, []

    def refusing_sign(session, keystore, settings, prepared, allocation, **options):
        calls.append(prepared.request.recipient.email)
        if prepared.request.recipient.email == "refused@example.com":
            raise InvalidCredentialRequest("The credential cannot be issued: JSON-LD processing failed")
        return real_sign(session, keystore, settings, prepared, allocation, **options)

    monkeypatch.setattr(issuing, "sign", refusing_sign)
    _, achievement = _setup(api)
    body = _csv(f"fine@example.com,{achievement['id']},,", f"refused@example.com,{achievement['id']},,")
    response = api.client.post("/v1/bulk/credentials", content=body, headers=CSV | api.admin)
    final = wait_for_job(api.client, response.json()["job_id"], api.admin)
    assert (final["state"], final["done"], final["failed"]) == ("succeeded", 1, 1)
    results = [
        json.loads(x)
        for x in api.client.get(f"/v1/jobs/{final['job_id']}/results", headers=api.admin).text.splitlines()
    ]
    assert results[0]["state"] == "issued"
    assert results[1]["state"] == "failed" and "JSON-LD" in results[1]["error"]
    assert calls.count("refused@example.com") == 1  # a row's own fault is not tried again
