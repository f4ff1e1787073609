"""Where the interop tests find the standards data (tests/fixtures/standards), and JSON file helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "standards"
EDDSA_VECTORS = SHARED / "vectors" / "vc-di-eddsa" / "TestVectors"
OB3_VECTORS = SHARED / "vectors" / "ob3-impl-guide"
STATUS_EXAMPLES = SHARED / "examples" / "w3c-bitstring-status-list"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
