"""docs/platforms.md cannot go stale: its shell commands run, in order and in one shell, against a
real `skillcred serve`, exactly as a platform developer would paste them."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.platforms.serving import ISSUER_ADMIN, platform_server

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "platforms.md"


def guide_script() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) >= 6, "the guide lost its commands"
    return "\n".join(blocks)


def test_every_command_of_the_platform_guide_works(tmp_path):
    with platform_server(tmp_path) as server:
        env = os.environ | {
            "SKILLCRED": server.base,
            "ADMIN_EMAIL": ISSUER_ADMIN[0],
            "ADMIN_PASSWORD": ISSUER_ADMIN[1],
            "ACHIEVEMENT_ID": server.achievement_id,
        }
        run = subprocess.run(
            ["bash", "-c", guide_script()], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    lines = run.stdout.splitlines()
    assert lines[0] == f"{server.base}/v1/auth/token"
    credential_ids = [line for line in lines if re.fullmatch(r"[0-9a-f-]{36}", line)]
    assert len(credential_ids) == 2 and credential_ids[0] == credential_ids[1], lines  # retried, issued once
    assert any(line.lower().startswith("x-total-count: 1") for line in lines), lines
