"""Export files and mappings uploaded through the data-load page: SDI_HOME/uploads/<timestamp>/, names sanitised."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

from sdi.errors import SdiError
from sdi.store.files import FILE_MODE, private_dir

MAX_FILE_BYTES = 8 * 2**20  # the app's request-body limit: bigger exports are copied to the server and picked there
MAX_UPLOAD_BYTES = 64 * 2**20  # one upload folder
EXPORTS = (".csv", ".txt", ".tsv", ".parquet", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm")
MAPPINGS = (".yaml", ".yml")
FOLDER = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
MAPPING_LIMIT = 200  # mappings listed at most


def uploads_dir(home: Path) -> Path:
    """Where uploads go."""
    return home / "uploads"


def new_upload(home: Path) -> str:
    """Create an empty upload folder named after the UTC time; returns its name."""
    base = private_dir(uploads_dir(home))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1000):
        name = stamp if n == 0 else f"{stamp}-{n}"
        try:
            (base / name).mkdir(mode=0o700)
            return name
        except FileExistsError:
            continue
    raise SdiError("too many uploads in one second", "try again")


def safe_name(name: str) -> str:
    """A file name reduced to letters, digits, '.', '-' and '_' (no folders, no leading dot), or an SdiError."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._")[:120]
    suffix = Path(clean).suffix.lower()
    if not clean or suffix not in EXPORTS + MAPPINGS:
        raise SdiError(f"cannot upload {name!r}: only export files ({', '.join(EXPORTS)}) and mappings (.yaml) are taken",
                       "export the data as CSV, Excel, Parquet or JSON and upload it with its mapping")
    return clean


def upload_folder(home: Path, upload: str) -> Path:
    """An existing upload folder by name (never a path outside SDI_HOME/uploads)."""
    folder = uploads_dir(home) / upload
    if not FOLDER.match(upload) or not folder.is_dir():
        raise SdiError(f"no upload {upload!r}", "start an upload first (POST /api/admin/uploads)")
    return folder


async def save(home: Path, upload: str, name: str, chunks: AsyncIterator[bytes]) -> dict[str, Any]:
    """Write one uploaded file (streamed, size-checked, owner-only); returns its name, size and sha256."""
    folder = upload_folder(home, upload)
    clean = safe_name(name)
    used = sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name != clean)
    target = folder / clean
    partial = folder / f".{clean}.part"
    digest, size = hashlib.sha256(), 0
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > MAX_FILE_BYTES or used + size > MAX_UPLOAD_BYTES:
                    raise SdiError(
                        f"{clean} is larger than the upload limit ({MAX_FILE_BYTES // 2**20} MB a file, "
                        f"{MAX_UPLOAD_BYTES // 2**20} MB an upload)",
                        "copy big exports to the server (e.g. under SDI_HOME) and pick their mapping instead")
                digest.update(chunk)
                out.write(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return {"name": clean, "size": size, "sha256": digest.hexdigest(), "mapping": target.suffix.lower() in MAPPINGS,
            "path": str(target)}


def check_upload_mapping(home: Path, mapping: Path) -> None:
    """An uploaded mapping may only name files of its own upload (no absolute paths, no '..')."""
    root = uploads_dir(home).resolve()
    where = mapping.resolve()
    if root not in where.parents:
        return
    from connectors.mapping import load_mapping

    parsed = load_mapping(mapping)
    for f in parsed.files:
        if parsed.resolve(f).resolve().parent != where.parent:
            raise SdiError(f"the uploaded mapping names {f.path!r}, which is not a file of its upload",
                           "name the uploaded files by their plain names (e.g. path: records.csv)")


def _is_mapping(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            head = fh.read(20_000)
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^files\s*:", head, re.MULTILINE) is not None


def list_mappings(home: Path, demo_dir: Path) -> list[dict[str, Any]]:
    """Mapping YAMLs on the server: in SDI_HOME, its demo-data folder and its uploads, newest first."""
    found: dict[Path, str] = {}
    places = [(home, "home", "*"), (demo_dir, "demo data", "*"), (uploads_dir(home), "upload", "*/*")]
    for folder, where, pattern in places:
        if not folder.is_dir():
            continue
        for suffix in MAPPINGS:
            for path in folder.glob(pattern + suffix):
                if path.is_file() and path not in found and _is_mapping(path):
                    found[path] = where
    items = [{"path": str(p), "name": p.name, "where": w, "folder": str(p.parent),
              "modified": datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")}
             for p, w in found.items()]
    items.sort(key=lambda i: i["modified"], reverse=True)
    return items[:MAPPING_LIMIT]
