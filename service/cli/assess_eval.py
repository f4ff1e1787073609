"""``skillcred assess-eval DIR [--no-embeddings] [--plot PATH] [--json]``: measure the offline
assessor on a labelled evaluation set (see :mod:`service.assessment.engine.evaluation`).

Prints, per rubric and overall, the adversarial / honest-strong / honest-weak auto-issue rates, the
review rate, the AUC of strong against weak by total score, the mean absolute level error against
the labels, the share of decisions as labelled and the median time per assessment; writes a
calibration plot (criterion confidence in bins against the share of criteria at the labelled level)
to ``--plot`` (default ``DIR/calibration.png``). ``--json`` prints the figures, the calibration bins
and every sample's outcome. Exit 0 when the set was evaluated, 2 for an unusable set.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from service.assessment.engine.evaluation import (
    CalibrationBin,
    EvaluationSetError,
    Outcome,
    calibration,
    expected_calibration_error,
    load_set,
    markdown_table,
    report,
    run_set,
)
from service.assessment.engine.offline import OfflineAssessor


def plot_calibration(bins: Sequence[CalibrationBin], path: Path, *, title: str) -> None:
    """A reliability diagram: accuracy per confidence bin against the diagonal, counts below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}, layout="constrained"
    )
    width = bins[0].high - bins[0].low if bins else 0.1
    filled = [b for b in bins if b.count]
    top.bar(
        [b.low for b in filled],
        [b.accuracy or 0.0 for b in filled],
        width=width,
        align="edge",
        edgecolor="black",
        color="#0072b2",
        label="share at the labelled level",
    )
    top.plot(
        [b.mean_confidence for b in filled],
        [b.accuracy for b in filled],
        "o",
        color="#d55e00",
        label="bin mean confidence",
    )
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("level accuracy")
    ece = expected_calibration_error(bins)
    top.set_title(f"{title}\nECE {ece:.3f}" if ece is not None else title, fontsize=10)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar([b.low for b in bins], [b.count for b in bins], width=width, align="edge", color="#999999")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("criterion confidence")
    bottom.set_ylabel("judgements")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def evaluation_document(outcomes: Sequence[Outcome], bins: Sequence[CalibrationBin], similarity: str) -> dict[str, Any]:
    """The ``--json`` output."""
    return {
        "similarity": similarity,
        "figures": {name: fig.to_dict() for name, fig in report(outcomes).items()},
        "calibration": {"bins": [asdict(b) for b in bins], "ece": expected_calibration_error(bins)},
        "samples": [
            {
                "id": o.sample_id,
                "rubric": o.rubric,
                "label": o.label,
                "family": o.family,
                "expect": o.expect,
                "decision": o.decision,
                "as_expected": o.as_expected,
                "total": o.total,
                "ranks": dict(o.ranks),
                "expected_ranks": dict(o.expected_ranks),
                "confidences": dict(o.confidences),
                "flags": list(o.flags),
                "ms": round(o.seconds * 1000, 1),
            }
            for o in outcomes
        ],
    }


def run(
    directory: str,
    *,
    use_embeddings: bool = True,
    plot: str | None = None,
    as_json: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run the ``assess-eval`` command; returns its exit code."""
    try:
        evaluation_set = load_set(directory)
    except EvaluationSetError as error:
        err.write(f"cannot use the evaluation set {directory}:\n" + "".join(f"  {e}\n" for e in error.errors))
        return 2
    assessor = OfflineAssessor(use_embeddings=use_embeddings)
    outcomes = run_set(evaluation_set, assessor)
    similarity = "absent: disabled"
    if use_embeddings:
        from service.assessment.engine.embedding import default_embedder

        embedder = default_embedder()
        similarity = "present" if embedder.available() else f"absent: {embedder.reason}"
    bins = calibration(outcomes)
    plot_path = Path(plot) if plot else Path(directory) / "calibration.png"
    plot_calibration(bins, plot_path, title=f"Offline assessor on {Path(directory).name} (similarity {similarity})")
    if as_json:
        document = evaluation_document(outcomes, bins, similarity)
        document["plot"] = str(plot_path)
        out.write(json.dumps(document, indent=2) + "\n")
        return 0
    out.write(f"Offline assessor on {directory}: {len(outcomes)} samples, similarity {similarity}\n\n")
    out.write(markdown_table(report(outcomes)) + "\n\n")
    ece = expected_calibration_error(bins)
    out.write(
        "S/B/W/A: honest strong / borderline / weak, adversarial. Rates are shares of decisions without "
        "sampling; AUC ranks strong against weak by total score; level MAE is in levels, over honest samples.\n"
    )
    out.write(f"Calibration plot: {plot_path}" + (f" (ECE {ece:.3f})" if ece is not None else "") + "\n")
    return 0
