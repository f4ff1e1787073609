"""``skillcred assess --rubric RUBRIC.json EVIDENCE... [--json]``: assess local evidence offline.

A fixed contract (integrations and audits run it):

- evidence: text or Markdown files, other files, and directories that are git repositories
  (assessed at ``HEAD``); the default :class:`OfflineAssessor` runs, with no network;
- the decision follows the rubric's policy without sampling (the command is deterministic);
- ``--json`` prints an object with at least ``decision`` (``auto_issue`` | ``review`` | ``reject``),
  ``total`` (number), ``criteria`` (list of ``{"id", "level", "score", "confidence"}``) and
  ``flags`` (list of strings); without it, a readable summary;
- exit code 0 when an assessment was made (whatever the decision), 2 for an invalid rubric or
  unusable evidence (a message on stderr, no traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from service.assessment.engine.decision import explain
from service.assessment.engine.local import LocalEvidenceError, bundle_from_paths
from service.assessment.engine.offline import OfflineAssessor
from service.assessment.engine.result import Assessment
from service.assessment.engine.rubric import Rubric, RubricError, load_rubric


def _load_rubric(path: str) -> Rubric:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise RubricError([f"cannot read {path}: {err.strerror or err}"]) from err
    except (ValueError, UnicodeDecodeError) as err:
        raise RubricError([f"{path} is not JSON: {err}"]) from err
    if not isinstance(data, dict):
        raise RubricError(["(root): a rubric is a JSON object"])
    return load_rubric(data)


def assessment_document(
    assessment: Assessment, rubric: Rubric, decision: str, reasons: tuple[str, ...], digests: dict[str, str]
) -> dict[str, Any]:
    """The ``--json`` output."""
    return {
        "decision": decision,
        "reasons": list(reasons),
        "total": assessment.total,
        "max_total": rubric.max_total,
        "passed": assessment.passed,
        "criteria": [
            {
                "id": c.criterion_id,
                "level": c.level,
                "score": c.score,
                "confidence": c.confidence,
                "rationale": c.rationale,
                "evidence": [{"item": p.item_id, "locator": p.locator} for p in c.evidence],
            }
            for c in assessment.criteria
        ],
        "flags": list(assessment.flags),
        "findings": [
            {"flag": f.flag, "item": f.item_id, "reason": f.reason, "excerpt": f.excerpt} for f in assessment.findings
        ],
        "notes": list(assessment.notes),
        "rubric": {"id": rubric.id, "version": rubric.version, "hash": rubric.hash},
        "evidence": digests,
        "assessor": dict(assessment.assessor),
    }


def _print_summary(document: dict[str, Any], rubric: Rubric, out: TextIO) -> None:
    write = out.write
    write(f"{rubric.name} ({rubric.id} v{rubric.version})\n")
    write(f"Decision: {document['decision']}  ({'; '.join(document['reasons'])})\n")
    write(
        f"Total: {document['total']:g} of {rubric.max_total:g} (pass needs {rubric.min_total:g}); "
        f"pass rule {'holds' if document['passed'] else 'fails'}\n"
    )
    write(f"Flags: {', '.join(document['flags']) or 'none'}\n\n")
    width = max(len(c["id"]) for c in document["criteria"])
    for criterion in document["criteria"]:
        write(
            f"  {criterion['id']:<{width}}  {criterion['level']:<14} score {criterion['score']:<5g} "
            f"confidence {criterion['confidence']:.2f}\n"
        )
        write(f"  {'':<{width}}  {criterion['rationale']}\n")
        for pointer in criterion["evidence"][:2]:
            locator = f": {pointer['locator'][:100]}" if pointer["locator"] else ""
            write(f"  {'':<{width}}  evidence {pointer['item']}{locator}\n")
    if document["findings"]:
        write("\nFindings:\n")
        for finding in document["findings"]:
            write(
                f"  [{finding['flag']}] {finding['reason']}"
                + (f": {finding['excerpt']}" if finding["excerpt"] else "")
                + "\n"
            )
    for note in document["notes"]:
        write(f"Note: {note}\n")
    assessor = document["assessor"]
    write(f"\nAssessor: {assessor['kind']} {assessor['version']} (similarity {assessor['similarity']})\n")


def run(
    rubric_path: str,
    evidence: list[str],
    *,
    as_json: bool = False,
    use_embeddings: bool = True,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run the ``assess`` command; returns its exit code."""
    try:
        rubric = _load_rubric(rubric_path)
    except RubricError as error:
        err.write(f"invalid rubric {rubric_path}:\n" + "".join(f"  {e}\n" for e in error.errors))
        return 2
    try:
        bundle = bundle_from_paths(evidence)
    except LocalEvidenceError as error:
        err.write(f"cannot use the evidence: {error}\n")
        return 2
    assessment = OfflineAssessor(use_embeddings=use_embeddings).assess(bundle, rubric)
    outcome = explain(assessment, rubric)
    document = assessment_document(assessment, rubric, outcome.decision, outcome.reasons, bundle.digests)
    if as_json:
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_summary(document, rubric, out)
    return 0
