"""`skillcred keys compromise` and `skillcred keys affected`: an operator reports an issuer key
compromised from the console and lists what it signed; `skillcred verify`, given the DID document
the service then publishes, refuses a credential the key signed. A report the service cannot take
exits 1 and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.cli.main import main
from service.issuers.models import SigningKey
from tests.credentials.helpers import resolve_map

pytestmark = pytest.mark.usefixtures("cli_environment")  # the command line uses the test app's database


def run(capsys, *args: Any) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def issued(api) -> dict[str, Any]:
    issuer = api.create_issuer("Console Academy")
    achievement = api.create_achievement(issuer["id"])
    return {"issuer": issuer, "credential": api.issue(achievement["id"])}


def verify_file(capsys, api, issued: dict[str, Any], folder: Path) -> tuple[int, dict[str, Any]]:
    """`skillcred verify --json` with the DID document and status lists as the service publishes them now."""
    folder.mkdir(exist_ok=True)
    credential = issued["credential"]["credential"]
    path = folder / "credential.json"
    path.write_text(json.dumps(credential))
    files = resolve_map(api.client, issued["issuer"], credential, folder)
    resolve = [arg for url, file in files.items() for arg in ("--resolve", f"{url}={file}")]
    code, out, _ = run(capsys, "verify", path, "--json", *resolve)
    return code, json.loads(out)


def test_the_console_reports_a_key_and_the_verifier_then_refuses_what_it_signed(capsys, api, issued, tmp_path):
    issuer = issued["issuer"]
    code, _ = verify_file(capsys, api, issued, tmp_path / "before")
    assert code == 0

    code, out, err = run(
        capsys,
        *("keys", "compromise", "--issuer", issuer["id"], "--key", "key-1"),
        *("--reason", "Backup tape lost in transit", "--since", "2026-02-01T00:00:00Z"),
    )

    assert code == 0, err
    assert f"{issuer['did']}#key-1 reported compromised since 2026-02-01T00:00:00Z" in out
    assert f"new active key: {issuer['did']}#key-2" in out
    assert f"credential {issued['credential']['id']} json-ld issued" in out
    code, report = verify_file(capsys, api, issued, tmp_path / "after")
    assert code == 1 and report["verified"] is False
    issuer_key = next(c for c in report["checks"] if c["id"] == "issuer_key")
    assert issuer_key["outcome"] == "failed"
    # the published DID document carries the date, not the reason
    assert issuer_key["reason"].startswith(
        "key_compromised: signed by a key the issuer reported compromised on 2026-02-01T00:00:00Z:"
    )


def test_keys_affected_lists_what_the_key_signed(capsys, api, issued):
    issuer, credential = issued["issuer"], issued["credential"]

    code, out, err = run(capsys, "keys", "affected", "--issuer", issuer["id"], "--key", "rsa-1", "--json")

    assert code == 0, err
    [record] = json.loads(out)
    assert (record["kind"], record["id"], record["formats"]) == ("credential", credential["id"], ["vc-jwt"])


@pytest.mark.parametrize(
    "args",
    [
        ["--key", "key-9", "--reason", "Lost"],
        ["--key", "key-1", "--reason", "Lost", "--since", (datetime.now(UTC) + timedelta(days=1)).isoformat()],
        ["--key", "key-1", "--reason", "Lost", "--since", "2026-02-01T00:00:00"],
        ["--key", "key-1", "--reason", " "],
    ],
)
def test_a_report_the_service_cannot_take_exits_1_and_changes_nothing(capsys, app, api, issued, args):
    issuer = issued["issuer"]

    code, _, err = run(capsys, "keys", "compromise", "--issuer", issuer["id"], *args)

    assert code == 1 and "nothing changed" in err
    with Session(app.state.engine) as session:
        keys = session.exec(select(SigningKey).where(SigningKey.issuer_id == issuer["id"])).all()
        assert [k.fragment for k in keys if k.compromised_at is None] == ["key-1", "rsa-1"]
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.key.compromise")).first() is None


def test_an_unreadable_moment_is_a_usage_error(capsys, api, issued):
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "keys",
                "compromise",
                "--issuer",
                issued["issuer"]["id"],
                "--key",
                "key-1",
                "--reason",
                "x",
                "--since",
                "soon",
            ]
        )
    assert exit_.value.code == 2
    assert "is not an ISO 8601 date and time" in capsys.readouterr().err
