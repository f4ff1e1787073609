"""The default assessor: offline, deterministic, no API key.

``OfflineAssessor().assess(bundle, rubric)`` screens the evidence (:mod:`.injection`,
:mod:`.gaming`, and :mod:`.semantic` when the embedding model is there), reads repositories
(:mod:`.repository`), checks claims against them (:mod:`.claims`), measures per-criterion signals
and maps them to levels (:mod:`.scoring`, where the mapping is documented). Same input, same
output: no randomness, stable ordering, similarities rounded. When the embedding model is missing
or fails its hash check the similarity signal is absent (recorded in ``assessor["similarity"]``)
and confidence is lower.
"""

from __future__ import annotations

from service.assessment.engine.bundle import EvidenceBundle
from service.assessment.engine.embedding import MODEL_SHA256, Embedder, default_embedder
from service.assessment.engine.reading import read_bundle
from service.assessment.engine.result import Assessment
from service.assessment.engine.rubric import Rubric
from service.assessment.engine.scoring import MAPPING_VERSION, compute_signals, judge
from service.assessment.engine.semantic import screen_semantic

OFFLINE_VERSION = "1.1.0"


class OfflineAssessor:
    """Deterministic rubric assessment from local signals.

    ``use_embeddings``: measure semantic similarity with the bundled MiniLM model when it is
    installed (default True). ``embedder``: a specific :class:`Embedder` (default: the shared one)."""

    kind = "offline"
    version = OFFLINE_VERSION

    def __init__(self, *, use_embeddings: bool = True, embedder: Embedder | None = None) -> None:
        self._use_embeddings = use_embeddings
        self._embedder = embedder

    def _available_embedder(self) -> tuple[Embedder | None, str]:
        if not self._use_embeddings:
            return None, "absent: disabled"
        embedder = self._embedder or default_embedder()
        if embedder.available():
            return embedder, "present"
        return None, f"absent: {embedder.reason}"

    def assess(self, bundle: EvidenceBundle, rubric: Rubric) -> Assessment:
        """Judge ``bundle`` against ``rubric``; never raises for bad evidence."""
        embedder, similarity_state = self._available_embedder()
        reading = read_bundle(bundle, rubric)
        if embedder is not None:
            screen_semantic(reading, rubric, embedder)
        passages = reading.passages()
        results = tuple(
            judge(
                criterion,
                compute_signals(criterion, passages, reading, embedder),
                reading,
                embeddings=embedder is not None,
            )
            for criterion in rubric.criteria
        )
        levels = {result.criterion_id: result.level for result in results}
        assessor = {
            "kind": self.kind,
            "version": self.version,
            "mapping": MAPPING_VERSION,
            "similarity": similarity_state,
            "embedding_model": embedder.model_id if embedder else None,
            "embedding_model_sha256": MODEL_SHA256 if embedder else None,
        }
        return Assessment(
            criteria=results,
            total=round(rubric.total(levels), 4),
            passed=rubric.passes(levels),
            flags=tuple(reading.flags),
            assessor=assessor,
            findings=tuple(reading.findings),
            notes=tuple(reading.notes),
            artefacts=reading.artefacts(),
        )
