"""Offline assessor throughput and memory on a fixed corpus, with and without the embedding model.

    .venv/bin/python bench/assessment.py [--rounds 5]

Corpus: every sample of the labelled set (tests/assessment/engine/samples/manifest.yaml: 72 submissions
over three rubrics, five of them with generated git repositories) plus one generated repository of
about 200 files and 120 commits. Each mode runs in its own process, so ``ru_maxrss`` (peak resident
memory of that process: Python, onnxruntime and the model) is the mode's own; ``tracemalloc`` peak
counts Python allocations during one round (native onnxruntime memory is not in it). Each round uses
a fresh embedder (no cached vectors; loading is timed separately), so a round does all the work.
Figures are medians over ``--rounds``; the machine is shared, so compare modes, not runs.

Then the evaluation set (tests/assessment_eval/, see its README.md) is run in each mode with
``skillcred assess-eval``: the quality table per rubric and overall, and a calibration plot per mode
(``calibration.png`` and ``calibration-no-embeddings.png`` in ``--plot-dir``, default the set's
directory). ``--skip-eval`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EVAL_SET = REPO / "tests" / "assessment_eval"


def _corpus(workdir: Path):
    from service.assessment.engine.bundle import EvidenceBundle
    from service.assessment.engine.local import repository_item
    from tests.assessment.engine.labelled import SAMPLES, make_repository, rubric, sample_bundle, samples

    corpus = [(sample_bundle(sample, workdir), rubric(sample.rubric)) for sample in samples()]
    files = {f"src/module_{i:03d}.py": f'"""Module {i}."""\n\ndef value_{i}():\n    return {i}\n' for i in range(150)}
    files.update({f"tests/test_module_{i:03d}.py": f"def test_{i}():\n    assert True\n" for i in range(40)})
    files[".github/workflows/ci.yml"] = "on: [push]\njobs: {test: {runs-on: ubuntu-latest, steps: [{run: pytest}]}}\n"
    files["README.md"] = (SAMPLES / "repos/trailhead/README.md").read_text()
    generated = make_repository(workdir / "generated", None, commits=120, days=200, authors=3, extra_files=files)
    corpus.append((EvidenceBundle(items=(repository_item(generated, "generated"),)), rubric("webdev")))
    return corpus


def run_mode(embeddings: bool, rounds: int) -> dict[str, float]:
    """Measure one mode in this process; returns the figures."""
    from service.assessment.engine.embedding import Embedder
    from service.assessment.engine.offline import OfflineAssessor

    started = time.perf_counter()
    if embeddings:
        Embedder().available()
    load_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        corpus = _corpus(Path(tmp))
        rates: list[float] = []
        peak = 0
        for number in range(rounds + 1):  # the first round warms imports and rubric caches
            embedder = Embedder() if embeddings else None
            if embedder is not None and not embedder.available():
                raise SystemExit(f"embedding model unavailable: {embedder.reason}")
            assessor = OfflineAssessor(use_embeddings=embeddings, embedder=embedder)
            if number == 1:
                tracemalloc.start()
            began = time.perf_counter()
            for bundle, rubric in corpus:
                assessor.assess(bundle, rubric)
            elapsed = time.perf_counter() - began
            if number == 1:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            elif number > 1:
                rates.append(len(corpus) / elapsed)
        if rounds == 1:
            rates.append(len(corpus) / elapsed)
    return {
        "assessments": len(corpus),
        "per_second": statistics.median(rates),
        "ms_each": 1000 / statistics.median(rates),
        "load_seconds": load_seconds,
        "tracemalloc_peak_mib": peak / 2**20,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mode", choices=["embeddings", "no-embeddings"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-eval", action="store_true", help="do not run the evaluation set")
    parser.add_argument("--plot-dir", default=str(EVAL_SET), help="where the calibration plots go")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode == "embeddings", args.rounds)))
        return
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"CPython {platform.python_version()}, {platform.machine()}, one process per mode, medians of "
        f"{args.rounds} rounds\n"
    )
    print("| mode | assessments/s | ms per assessment | model import + load s | tracemalloc peak MiB | max RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode in ("embeddings", "no-embeddings"):
        completed = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--rounds", str(args.rounds)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(completed.stdout.strip().splitlines()[-1])
        label = "with embeddings (MiniLM int8)" if mode == "embeddings" else "without embeddings"
        load = f"{figures['load_seconds']:.2f}" if mode == "embeddings" else "-"
        print(
            f"| {label} | {figures['per_second']:.1f} | {figures['ms_each']:.1f} | {load} | "
            f"{figures['tracemalloc_peak_mib']:.1f} | {figures['maxrss_mib']:.0f} |"
        )
    print(f"\ncorpus: {figures['assessments']} assessments per round (labelled samples + a generated repository)")
    if not args.skip_eval:
        run_evaluation(Path(args.plot_dir))


def run_evaluation(plot_dir: Path) -> None:
    """The evaluation set's quality table in each mode (one process per mode, like the CLI)."""
    for mode, flags, plot in (
        ("with embeddings", [], "calibration.png"),
        ("without embeddings", ["--no-embeddings"], "calibration-no-embeddings.png"),
    ):
        command = ["-m", "service.cli.main", "assess-eval", str(EVAL_SET.relative_to(REPO)), *flags]
        command += ["--plot", str(plot_dir / plot)]
        print(f"\n## Evaluation set, {mode}\n\n$ skillcred {' '.join(command[2:])}")
        completed = subprocess.run([sys.executable, *command], capture_output=True, text=True, check=True, cwd=REPO)
        print(completed.stdout.rstrip())


if __name__ == "__main__":
    main()
