"""The ONNX Runtime embedder: a SentenceTransformer model's transformer exported once to ONNX, run without torch.

The export is derived data kept in <cache>/onnx/<model>-<source sha256[:12]>/model.onnx (fp32: the same vectors as
torch to ~1e-6), beside manifest.json recording the source model's sha256, the export recipe, the tool versions and
the file's sha256. An export whose manifest does not match today's source and tools is redone (under a file lock;
files land by atomic rename, the manifest last). The file is checked against its sha256 before it is loaded, from
the very bytes that are loaded. Dynamic quint8 quantisation was measured and not adopted: mean cosine to torch
0.977 on demo notes (0.983 on excavator work orders), and no faster than fp32 in our runs.

Only the mean-pooling pipeline (Transformer -> mean Pooling [-> Normalize]) with a fast tokenizer (tokenizer.json)
is supported; tokenisation uses that tokenizer, pooling and the L2 norm are numpy, as in SentenceTransformer.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from sdi.errors import SdiError
from sdi.hashing import sha256_file

EXPORT_RECIPE = 1  # bump when the export steps change: every export is redone
TOOLS = ("torch", "transformers", "onnx")
_SOURCE_FILES = ("config.json", "tokenizer.json", "sentence_bert_config.json", "model.safetensors", "pytorch_model.bin")

# Padded tokens per ONNX run (a few service notes, or ~50 short work orders). Small runs pad less and stay in the CPU
# cache: on demo notes 512 tokens embed ~1.6x as fast as 128 texts a run and ~8 % faster than 32 texts a run.
BATCH_TOKENS = 512
BATCH_MAX = 128

Exporter = Callable[[Path, Path], None]  # (model folder, .onnx file to write)


def _sha256(data: bytes | Path) -> str:
    return hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else sha256_file(data)


def source_digest(folder: Path) -> str:
    """sha256 over a model folder's weights, config and tokenizer (what an export is derived from)."""
    digest = hashlib.sha256()
    for name in _SOURCE_FILES:
        path = folder / name
        if path.is_file():
            digest.update(f"{name}\0{_sha256(path)}\0".encode())
    return digest.hexdigest()


def supported(folder: Path) -> bool:
    """Is this a mean-pooling SentenceTransformer folder with a fast tokenizer (what this backend reproduces)?"""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text()) if len(modules) > 1 else {}
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    return (kinds in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
            and modes == {"pooling_mode_mean_tokens"} and (folder / "tokenizer.json").is_file()
            and any((folder / w).is_file() for w in ("model.safetensors", "pytorch_model.bin")))


def tool_versions() -> dict[str, str]:
    """Versions of the tools an export depends on (read without importing them)."""
    out = {}
    for name in TOOLS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # one exporter per folder across processes
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Export:
    """The exported model of one model folder under a cache root."""

    FILE = "model.onnx"

    def __init__(self, folder: Path, cache_root: Path, name: str) -> None:
        self.source = folder
        self.source_sha256 = source_digest(folder)
        self.dir = Path(cache_root) / "onnx" / f"{name}-{self.source_sha256[:12]}"
        self.expected = {"source_sha256": self.source_sha256, "recipe": EXPORT_RECIPE, "tools": tool_versions()}

    def manifest(self) -> dict:
        """The manifest on disk ({} when absent or unreadable)."""
        try:
            data = json.loads((self.dir / "manifest.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _current(self) -> bytes | None:
        """The model's verified bytes when the manifest matches today's source and tools, else None."""
        manifest = self.manifest()
        if any(manifest.get(k) != v for k, v in self.expected.items()) or not manifest.get("sha256"):
            return None
        try:
            data = (self.dir / self.FILE).read_bytes()
        except OSError:
            return None
        return data if _sha256(data) == manifest["sha256"] else None

    def load(self, export: Exporter) -> bytes:
        """The verified .onnx bytes, exporting first when there is no current, intact export."""
        data = self._current()
        if data is not None:
            return data
        with _locked(self.dir.with_name(self.dir.name + ".lock")):
            data = self._current()  # another process may have exported while we waited
            if data is None:
                self.dir.mkdir(parents=True, exist_ok=True)
                _land(self.dir / self.FILE, lambda tmp: export(self.source, tmp))
                body = json.dumps({**self.expected, "sha256": _sha256(self.dir / self.FILE)}, indent=1, sort_keys=True)
                _land(self.dir / "manifest.json", lambda tmp: tmp.write_text(body))
                data = self._current()
        if data is None:  # pragma: no cover - only a broken disk gets here
            raise SdiError(f"the ONNX export in {self.dir} does not verify after writing it",
                           "delete that folder, or set SDI_EMBEDDING_BACKEND=torch")
        return data


def _land(dest: Path, write: Callable[[Path], None]) -> None:
    """Write a file beside its destination, then rename it into place (a reader never sees half a file)."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class OnnxEmbedder:
    """A SentenceTransformer model run by ONNX Runtime on the CPU: same tokenizer, mean pooling, L2 norm.

    The session runs each batch on one thread without spin-waiting, and `workers` batches run at once: on a
    small model this beats one batch over all cores, and a busy machine does not stall it at thread barriers (a
    search query is one single-threaded run, which also answers fastest when other processes hold the cores).
    """

    def __init__(self, folder: Path, model: bytes, model_id: str, cache_id: str, workers: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - a damaged export is the user's to remove
            raise SdiError(f"cannot load the ONNX export of {folder}: {exc}", "set SDI_EMBEDDING_BACKEND=torch") from exc
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(_max_length(folder))
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.model_id = model_id
        self.cache_id = cache_id
        self.workers = workers or cores()
        self.batch_tokens = BATCH_TOKENS
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Normalised embeddings in input order; runs of similar token length, padded to their longest.

        Runs are sized by padded tokens (BATCH_TOKENS), not by `batch_size`, which only the torch backend uses.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i].ids))
        batches = _batches(order, [len(encoded[i].ids) for i in order], self.batch_tokens)

        def embed(idx: list[int]) -> None:
            out[idx] = self._embed([encoded[i].ids for i in idx])

        if len(batches) == 1:
            embed(batches[0])
            return out
        with self._lock, ThreadPoolExecutor(self.workers, thread_name_prefix="sdi-embed") as pool:
            list(pool.map(embed, batches))  # one bulk encode at a time: it already fills every core
        return out

    def _embed(self, ids: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, x in enumerate(ids):
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _batches(order: list[int], lengths: list[int], budget: int) -> list[list[int]]:
    """Runs of `order` (longest first) whose padded size, count x longest, stays within `budget` tokens."""
    out: list[list[int]] = []
    width = 0
    for i, n in zip(order, lengths):
        if out and (len(out[-1]) + 1) * width <= budget and len(out[-1]) < BATCH_MAX:
            out[-1].append(i)
        else:
            out.append([i])
            width = n
    return out


def _max_length(folder: Path) -> int:
    try:
        return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 512
