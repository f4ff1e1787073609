"""What a retry gets while the key's first request runs, and after it ended without its answer
stored: it waits for the answer; it is told the request is still running; it is told the answer
was lost (the request took effect, so it never runs again); or, when the first request died before
it committed anything, it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from service.api.idempotency import IdempotencyKeys
from service.credentials import entry_points
from service.idempotency import service
from service.idempotency.service import ABANDONED_AFTER
from tests.concurrency import TIMEOUT, Worker, wait_until
from tests.idempotency.conftest import credential_count, issue_body, keyed, records

PAST_ABANDONED = ABANDONED_AFTER + timedelta(seconds=1)


def middleware(app) -> IdempotencyKeys:
    """The app's IdempotencyKeys instance (the middleware stack is built by the first request)."""
    layer: Any = app.middleware_stack
    while not isinstance(layer, IdempotencyKeys):
        layer = layer.app
    return layer


def claims_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kinds of every claim the middleware makes from now on."""
    seen: list[str] = []
    real = service.claim

    def counting(*args: Any) -> service.Claim:
        claimed = real(*args)
        seen.append(claimed.kind)
        return claimed

    monkeypatch.setattr(service, "claim", counting)
    return seen


def gate_first_issuance(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Hold the first issuance until released; later ones run straight through."""
    entered, release = threading.Event(), threading.Event()
    real = entry_points.issue_direct

    def gated(*args: Any, **kwargs: Any) -> Any:
        if not entered.is_set():
            entered.set()
            assert release.wait(TIMEOUT), "the test never released the first issuance"
        return real(*args, **kwargs)

    monkeypatch.setattr(entry_points, "issue_direct", gated)
    return entered, release


def poster(api, achievement, key: str) -> Callable[[], Any]:
    return lambda: api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, key))


def test_a_retry_while_the_first_request_runs_waits_for_it_and_gets_its_answer(api, achievement, monkeypatch):
    entered, release = gate_first_issuance(monkeypatch)
    seen = claims_seen(monkeypatch)
    first = Worker(poster(api, achievement, "k"), name="first")
    first.start()
    wait_until(entered.is_set, "the first request is issuing")
    retry = Worker(poster(api, achievement, "k"), name="retry")
    retry.start()
    wait_until(lambda: seen.count("in_flight") >= 2, "the retry looked twice and found the first request running")

    release.set()
    answer, replay = first.outcome(), retry.outcome()

    assert answer.status_code == replay.status_code == 201
    assert replay.content == answer.content and replay.headers["Idempotent-Replayed"] == "true"
    assert credential_count(api) == 1


def test_a_retry_still_waiting_after_the_wait_is_409_in_progress_with_retry_after(app, api, achievement, monkeypatch):
    middleware(app).wait_seconds = 0.2
    entered, release = gate_first_issuance(monkeypatch)
    first = Worker(poster(api, achievement, "k"), name="first")
    first.start()
    wait_until(entered.is_set, "the first request is issuing")

    retry = poster(api, achievement, "k")()
    release.set()

    assert retry.status_code == 409 and retry.json()["error"] == "idempotency_request_in_progress"
    assert int(retry.headers["Retry-After"]) > 0
    assert first.outcome().status_code == 201
    assert credential_count(api) == 1


def test_an_answer_too_large_to_keep_is_sent_whole_and_its_retries_are_409_response_lost(app, api, achievement):
    middleware(app).max_stored_body = 100

    first = poster(api, achievement, "k")()
    retry = poster(api, achievement, "k")()

    assert first.status_code == 201 and first.json()["credential"]["proof"]
    assert retry.status_code == 409 and retry.json()["error"] == "idempotency_response_lost"
    [record] = records(app)
    assert (record.state, record.status_code, record.response_body) == ("committed", 201, None)
    assert credential_count(api) == 1


def test_a_request_whose_process_died_after_its_commit_never_runs_again(app, api, achievement, clock, monkeypatch):
    middleware(app).wait_seconds = 0.2
    monkeypatch.setattr(service, "finish", lambda *args: None)  # the process "dies" before storing the answer
    first = poster(api, achievement, "k")()
    monkeypatch.undo()

    soon = poster(api, achievement, "k")()
    clock.advance(PAST_ABANDONED)
    later = poster(api, achievement, "k")()

    assert first.status_code == 201
    assert [record.state for record in records(app)] == ["committed"]
    assert soon.status_code == 409 and soon.json()["error"] == "idempotency_request_in_progress"
    assert later.status_code == 409 and later.json()["error"] == "idempotency_response_lost"
    assert credential_count(api) == 1


def test_a_request_whose_process_died_before_its_commit_runs_again_once_abandoned(
    app, api, achievement, clock, monkeypatch
):
    middleware(app).wait_seconds = 0.2
    monkeypatch.setattr(service, "finish", lambda *args: None)
    monkeypatch.setattr(entry_points, "issue_direct", _crash)
    first = poster(api, achievement, "k")()
    monkeypatch.undo()
    left_behind = [record.state for record in records(app)]

    soon = poster(api, achievement, "k")()
    clock.advance(PAST_ABANDONED)
    later = poster(api, achievement, "k")()

    assert first.status_code == 500 and left_behind == ["pending"]
    assert soon.status_code == 409 and soon.json()["error"] == "idempotency_request_in_progress"
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert credential_count(api) == 1


def test_a_request_running_past_the_abandon_time_cannot_commit_once_its_key_was_taken_over(
    api, achievement, clock, monkeypatch
):
    entered, release = gate_first_issuance(monkeypatch)
    first = Worker(poster(api, achievement, "k"), name="first")
    first.start()
    wait_until(entered.is_set, "the first request is issuing")
    clock.advance(PAST_ABANDONED)

    takeover = poster(api, achievement, "k")()
    release.set()
    superseded = first.outcome()
    retry = poster(api, achievement, "k")()

    assert takeover.status_code == 201 and "Idempotent-Replayed" not in takeover.headers
    assert superseded.status_code == 409 and superseded.json()["error"] == "idempotency_request_superseded"
    assert retry.status_code == 201 and retry.content == takeover.content
    assert credential_count(api) == 1


def test_a_server_error_gives_the_key_back(app, api, achievement, monkeypatch):
    monkeypatch.setattr(entry_points, "issue_direct", _crash)
    failed = poster(api, achievement, "k")()
    monkeypatch.undo()
    retry = poster(api, achievement, "k")()

    assert failed.status_code == 500 and retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert credential_count(api) == 1


def _crash(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("the process dies here")
