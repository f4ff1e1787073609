"""`skillcred bulk-issue FILE --achievement ID`: the same bulk issuance from the command line."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa

from service.cli.main import main

pytestmark = pytest.mark.usefixtures("cli_environment")  # the command line uses the test app's database


def test_bulk_issue_fills_the_achievement_issues_every_row_and_writes_the_results(capsys, app, api, tmp_path):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    rows = tmp_path / "rows.csv"
    rows.write_text("recipient_email,external_id\ncli1@example.com,k-1\ncli2@example.com,\ncli3@example.com,k-3\n")
    results = tmp_path / "results.csv"
    code = main(["bulk-issue", str(rows), "--achievement", achievement["id"], "--results", str(results)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "succeeded, 3 issued, 0 failed of 3" in out and f"results: {results}" in out
    table = list(csv.DictReader(results.open()))
    assert [r["row"] for r in table] == ["2", "3", "4"] and {r["state"] for r in table} == {"issued"}
    with app.state.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM credential")).scalar_one() == 3


def test_bulk_issue_refuses_a_file_with_an_invalid_row_and_stores_nothing(capsys, app, api, tmp_path):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    rows = tmp_path / "rows.csv"
    rows.write_text("recipient_email,valid_until\nok@example.com,\nbad@example.com,yesterday\n")
    assert main(["bulk-issue", str(rows), "--achievement", achievement["id"]]) == 1
    assert "row 3: valid_until" in capsys.readouterr().err
    assert main(["bulk-issue", str(rows), "--achievement", achievement["id"], "--issuer-admin", "no@x.org"]) == 2
    with app.state.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM bulkjob")).scalar_one() == 0
