"""Paths to the shared standards data (W3C/1EdTech vectors and examples) the tests read."""

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / "tests" / "fixtures" / "standards"  # vendored copy of shared/standards (see its README)
VC_DI_EDDSA = SHARED / "vectors" / "vc-di-eddsa" / "TestVectors"
OB3_IMPL_GUIDE = SHARED / "vectors" / "ob3-impl-guide"
STATUS_EXAMPLES = SHARED / "examples" / "w3c-bitstring-status-list"
OB3_EXAMPLES = SHARED / "examples" / "ob3-spec"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
