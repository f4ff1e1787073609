"""Without its browser or axe-core the browser suite fails, saying how to install them: it never
skips silently (a developer deselects it on purpose with `pytest -m 'not browser'`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import harness


def test_a_missing_chromium_fails_with_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(harness, "CHROMIUM", tmp_path / "chromium")

    with pytest.raises(pytest.fail.Exception, match="scripts/ensure-chromium.*-m 'not browser'"):
        harness.require_chromium()


def test_a_missing_axe_core_without_npm_fails_with_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "package-lock.json").write_text("{}")
    monkeypatch.setattr(harness, "HERE", tmp_path)
    monkeypatch.setattr(harness, "AXE_JS", tmp_path / "node_modules" / "axe-core" / "axe.min.js")
    monkeypatch.setattr(harness.shutil, "which", lambda name: None)

    with pytest.raises(pytest.fail.Exception, match="axe-core is not installed.*make browsers"):
        harness.require_axe()
