"""A credential with everything the badge page shows: rubric results, an assessment statement,
evidence with digests (a web page, a Markdown narrative with code), and an earner account with a
display name and a verified email address."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from service.accounts.models import Account, Role
from service.core.db import unit_of_work
from service.credentials.issuing import IssueRequest, Recipient, issue
from service.credentials.models import Credential
from service.credentials.schemas import ResultIn
from service.evidence.credential import digest_multibase, digest_sri
from service.vc.skillcred import AssessmentStatement

EARNER_EMAIL = "ada.lovelace@example.org"
DISPLAY_NAME = "Ada Lovelace"
WEB_EVIDENCE_URL = "https://portfolio.example/ada/tested-project"
WEB_EVIDENCE_BYTES = b"<html><body>Ada's tested project</body></html>"
MARKDOWN = """# Testing the parser

I wrote *property-based* tests with <script>alert(1)</script> inside.

```python
def test_roundtrip(value):
    assert parse(render(value)) == value
```

![diagram](https://tracker.example/pixel.png) [javascript link](javascript:alert(2))
"""


def sri_of(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass
class Rich:
    """The issued credential's id and path."""

    id: str

    @property
    def path(self) -> str:
        return f"/credentials/{self.id}"


def add_earner(app: Any, *, email: str = EARNER_EMAIL, name: str | None = DISPLAY_NAME, verified: bool = True) -> None:
    """An earner account for ``email`` with a display name (verified: it proved the address)."""
    with unit_of_work(app.state.engine) as session:
        session.add(
            Account(
                email=email,
                display_name=name,
                password_hash="not-used",
                role=Role.earner,
                email_verified_at=datetime.now(UTC) if verified else None,
            )
        )


def issue_rich(app: Any, settings: Any, achievement: dict[str, Any], *, email: str = EARNER_EMAIL) -> Rich:
    """Issue the rich credential of ``achievement`` (the credential tests' one, with its "Test
    design" criterion of three levels) to ``email``."""
    digest = hashlib.sha256(WEB_EVIDENCE_BYTES).hexdigest()
    evidence = [
        {
            "id": WEB_EVIDENCE_URL,
            "type": ["Evidence"],
            "genre": "Web page",
            "name": "Tested project",
            "description": "Web resource fetched 2026-11-28T10:00:00Z; the digest is of the body received.",
            "digestMultibase": digest_multibase(digest),
            "digestSRI": digest_sri(digest),
        },
        {"type": ["Evidence"], "genre": "Narrative", "name": "How I test", "narrative": MARKDOWN},
    ]
    statement = AssessmentStatement(
        assessor_kind="llm",
        assessor_version="2.1",
        human_reviewed=True,
        decision="approved",
        rubric_id="python-testing",
        rubric_name="Python testing rubric",
        rubric_version="1",
        rubric_hash="sha256:" + "0" * 64,
        assessed_at="2026-11-28T10:00:00Z",
        reviewed_at="2026-11-29T09:00:00Z",
    )
    with unit_of_work(app.state.engine) as session:
        row = issue(
            session,
            app.state.keystore,
            settings,
            IssueRequest(
                achievement_id=achievement["id"],
                recipient=Recipient.parse({"email": email}),
                evidence=evidence,
                results=[ResultIn(result_description="Test design", achieved_level="Proficient")],
                assessment=statement,
            ),
            now=datetime.now(UTC),
        )
        return Rich(row.id)


def set_credential(app: Any, credential_id: str, **columns: Any) -> None:
    """Change columns of the credential's row (the earner's choices, as the portal would)."""
    with unit_of_work(app.state.engine) as session:
        row = session.get(Credential, credential_id)
        assert row is not None
        for name, value in columns.items():
            setattr(row, name, value)
        session.add(row)


def set_display_name(app: Any, email: str, name: str | None) -> None:
    """Rename the account of ``email`` (as the portal would)."""
    with unit_of_work(app.state.engine) as session:
        account = session.exec(select(Account).where(Account.email == email)).one()
        account.display_name = name
        session.add(account)


_STAMP = re.compile(r'<figcaption class="stamp">([^<]+)</figcaption>')
_BANNER = re.compile(r'role="status">\s*<strong>(.*?)</strong>', re.DOTALL)


def stamp_of(html: str) -> str | None:
    """The word stamped on a badge page's image ("Revoked", "Suspended", "Expired"), if any: what
    the live verification found, or the issuer's own record of the credential."""
    found = _STAMP.search(html)
    return found.group(1).strip() if found else None


def banner_of(html: str) -> str:
    """The headline of a badge page's verification banner ("Verified", "Revoked"...), without its symbol."""
    found = _BANNER.search(html)
    assert found, "the page has no verification banner"
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("✔", "").replace("✘", "").replace("!", "").strip()
