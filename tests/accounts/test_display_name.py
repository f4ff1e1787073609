"""An earner's display name: given at registration (optional), shown by GET /v1/me, changed or
removed with PATCH /v1/me (audited), bounded and free of control characters."""

from sqlmodel import Session, select

from service.audit.models import AuditEvent

PASSWORD = "a-long-enough-password"


def _register(client, email, **extra):
    return client.post("/v1/auth/register", json={"email": email, "password": PASSWORD, **extra})


def test_registration_takes_an_optional_display_name_trimmed(api):
    assert _register(api.client, "named@example.org", display_name="  Ada Lovelace ").status_code == 201
    assert _register(api.client, "plain@example.org").status_code == 201

    named = api.client.get("/v1/me", headers=api.login("named@example.org", PASSWORD)).json()
    plain = api.client.get("/v1/me", headers=api.login("plain@example.org", PASSWORD)).json()
    assert named["display_name"] == "Ada Lovelace"
    assert plain["display_name"] is None


def test_a_blank_long_or_control_character_name_is_refused(client):
    # bidi overrides, zero-width characters and line breaks would make a name on a public badge
    # page read as something else
    for name in ("   ", "x" * 101, "Ada\x00", "Ada\x1b[31m", "Ada \u202eecalevoL", "A\u200bda", "Ada\nLovelace"):
        response = _register(client, "bad@example.org", display_name=name)
        assert response.status_code == 422, name


def test_patch_me_changes_and_removes_the_name_and_audits_it(app, api):
    headers = api.register_earner("change@example.org", PASSWORD)

    changed = api.client.patch("/v1/me", json={"display_name": "Grace H."}, headers=headers)
    removed = api.client.patch("/v1/me", json={"display_name": None}, headers=headers)

    assert changed.status_code == 200 and changed.json()["display_name"] == "Grace H."
    assert removed.status_code == 200 and removed.json()["display_name"] is None
    assert api.client.patch("/v1/me", json={"display_name": ""}, headers=headers).status_code == 422
    assert api.client.patch("/v1/me", json={"email": "other@example.org"}, headers=headers).status_code == 422
    assert api.client.patch("/v1/me", json={"display_name": "X"}).status_code == 401
    with Session(app.state.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "account.display_name")).all()
    assert [(e.before, e.after) for e in events] == [
        ({"display_name": None}, {"display_name": "Grace H."}),
        ({"display_name": "Grace H."}, {"display_name": None}),
    ]


def test_the_mailed_verification_message_links_to_the_landing_page(app, client):
    _register(client, "linked@example.org")
    (message,) = app.state.mailer.to("linked@example.org")
    assert "https://skillcred.example/verify-email?token=" in message.body
