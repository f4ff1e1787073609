"""The figures the suite measures, printed at the end of `make test`.

A test adds to a figure with :func:`record` (``record("requests under load", 50)``); tests marked
``@pytest.mark.attack`` count as attacks tried. Each pytest process (xdist worker) appends to its
own file under ``.pytest_cache/skillcred-figures/``; the controller sums them in its terminal
summary (see ``pytest_terminal_summary`` in tests/conftest.py).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

FIGURES_DIR = Path(__file__).resolve().parents[1] / ".pytest_cache" / "skillcred-figures"

#: The figures printed, in this order, even when zero (a zero is a finding too).
FIGURES = (
    "attacks tried",
    "inputs fuzzed",
    "requests under load",
    "faults injected",
    "credentials lost",
)


def _own_file() -> Path:
    return FIGURES_DIR / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}.jsonl"


def record(figure: str, amount: int) -> None:
    """Add ``amount`` to ``figure`` for this run."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    with _own_file().open("a", encoding="utf-8") as out:
        out.write(json.dumps({"figure": figure, "amount": amount}) + "\n")


def reset() -> None:
    """Forget earlier runs' figures (the controller calls this when the session starts)."""
    if FIGURES_DIR.exists():
        for path in FIGURES_DIR.glob("*.jsonl"):
            path.unlink()


def totals() -> Counter[str]:
    """Every figure recorded in this run, summed over all processes."""
    counts: Counter[str] = Counter({figure: 0 for figure in FIGURES})
    for path in FIGURES_DIR.glob("*.jsonl") if FIGURES_DIR.exists() else ():
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            counts[entry["figure"]] += int(entry["amount"])
    return counts
