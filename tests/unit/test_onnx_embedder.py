"""The ONNX backend: the same vectors as torch from the bundled model, and an export that is verified before use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval import embedder, onnx_embedder
from retrieval.embedder import bundled_model_path, get_embedder, load_embedder
from retrieval.onnx_embedder import Export, OnnxEmbedder, supported
from sdi.errors import SdiError

TEXTS = [
    "Machine stops with E-417. Found hydraulic pressure sensor faulty. Replaced P/N 4471-220. Test run ok.",
    "BUCKET WON'T OPEN",
    "L/H bucket cyl leaking.",
    "Annual safety inspection, light curtain and e-stops ok, no findings. " * 25,  # past the 256-token limit
    "",
    "Laser power drop E-140, focus lens contaminated, cleaned lens and protective glass.",
    "vibration 7.1 mm/s on the spindle bearing, customer asked for a quote",
] * 3


def test_onnx_gives_torchs_vectors_for_the_bundled_model() -> None:
    onnx = get_embedder(backend="onnx", cached=False)
    torch = get_embedder(backend="torch", cached=False)
    assert isinstance(onnx, OnnxEmbedder) and onnx.model_id == torch.model_id and onnx.dim == torch.dim == 384
    assert onnx.cache_id != torch.cache_id  # the cache keeps the backends apart
    a, b = onnx.encode(TEXTS), torch.encode(TEXTS)
    cosine = (a * b).sum(axis=1)
    assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
    assert cosine.mean() >= 0.9999 and cosine.min() >= 0.999
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert onnx.encode([]).shape == (0, 384)
    assert np.allclose(onnx.encode(TEXTS[:1]), a[:1], atol=1e-5)  # a query alone gives the same vector


def test_only_the_mean_pooling_pipeline_is_supported(tmp_path: Path) -> None:
    assert supported(bundled_model_path())
    folder = tmp_path / "cls-model"
    shutil.copytree(bundled_model_path(), folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    (folder / "model.safetensors").write_bytes(b"weights")
    assert supported(folder)
    pooling = folder / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({**json.loads(pooling.read_text()), "pooling_mode_mean_tokens": False,
                                   "pooling_mode_cls_token": True}))
    assert not supported(folder)


def test_runs_are_sized_by_padded_tokens() -> None:
    lengths = [300, 120, 110, 100, 90, 12, 11, 10] + [5] * 200
    order = list(range(len(lengths)))
    runs = onnx_embedder._batches(order, lengths, 512)
    assert [i for run in runs for i in run] == order
    assert all(len(run) * lengths[run[0]] <= 512 or len(run) == 1 for run in runs)
    assert runs[:3] == [[0], [1, 2, 3, 4], [5, 6, 7] + list(range(8, 47))]
    assert max(len(run) for run in runs) <= onnx_embedder.BATCH_MAX


class CountingExporter:
    """Writes fake model bytes, counting exports."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, folder: Path, dest: Path) -> None:
        self.calls += 1
        dest.write_bytes(b"onnx model " + folder.name.encode())


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights v1")
    return folder


def test_an_export_is_made_once_and_verified_before_use(source: Path, tmp_path: Path) -> None:
    export = CountingExporter()
    data = Export(source, tmp_path / "cache", "m").load(export)
    assert data == b"onnx model model" and export.calls == 1
    again = Export(source, tmp_path / "cache", "m")
    assert again.load(export) == data and export.calls == 1
    manifest = again.manifest()
    assert manifest["source_sha256"] == again.source_sha256 and manifest["tools"]["torch"]
    (again.dir / "model.onnx").write_bytes(b"onnx model tampered")  # bit rot or a stray edit: redone, not used
    assert Export(source, tmp_path / "cache", "m").load(export) == data and export.calls == 2


def test_a_new_source_or_tool_version_is_exported_again(source: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    export = CountingExporter()
    first = Export(source, tmp_path / "cache", "m")
    first.load(export)
    (source / "model.safetensors").write_bytes(b"weights v2")
    second = Export(source, tmp_path / "cache", "m")
    assert second.dir != first.dir
    second.load(export)
    assert export.calls == 2
    monkeypatch.setattr(onnx_embedder, "tool_versions", lambda: {"torch": "99.0", "transformers": "1", "onnx": "1"})
    third = Export(source, tmp_path / "cache", "m")
    third.load(export)
    assert export.calls == 3 and third.manifest()["tools"]["torch"] == "99.0"


def test_auto_falls_back_to_torch_when_the_export_fails_and_onnx_says_why(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(folder: Path, dest: Path) -> None:
        raise RuntimeError("Module onnx is not installed!")

    monkeypatch.setattr(embedder, "export_onnx", broken)
    monkeypatch.setattr(embedder, "SentenceTransformerEmbedder", lambda path: "the torch embedder")
    assert load_embedder(None, "auto", tmp_path) == "the torch embedder"
    with pytest.raises(SdiError, match="cannot export .* to ONNX: Module onnx is not installed"):
        load_embedder(None, "onnx", tmp_path)
