"""`sdi backup` / `sdi restore`: the whole SDI home in one tar.gz with a manifest, checked before it replaces anything.

Backup holds the machine file open for the whole copy (DuckDB lets one process write it, so no import, index run
or server can change it meanwhile), runs CHECKPOINT so the file alone is complete, and copies the audit log and its
head in one locked read. Restore unpacks into a private staging folder next to the target, checks every file's
sha256, the row count of every table and the audit chain there, and only then moves it into place; with --force an
existing home is kept aside (`<home>.before-restore-<time>`), never deleted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Callable

from sdi.audit.log import AuditDamaged, AuditLog, now_iso, parse_head
from sdi.hashing import sha256_file
from sdi.config import Settings
from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.store.files import secure_tree

FORMAT = "sdi-backup/1"
MANIFEST = "MANIFEST.json"
ROOT = "home"
SKIP_TOP = {"bench", "snapshot"}  # benchmark scratch and the server's read snapshot: regenerated, often large
SKIP_HOME_FILES = {"server.json"}  # a running server's address and local admin token: never archived
SKIP_AUDIT = {"audit.jsonl", "HEAD", "audit.lock", "HEAD.tmp"}  # the log and head come from one locked snapshot
Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def table_counts(db: MachineFile) -> dict[str, int]:
    """Rows in every table and view of the machine file (`telemetry` is a view since schema 4, so a backup made
    before it is still checked by that name), by name (schema-qualified outside `main`)."""
    names = db.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary "
        "AND database_name = current_database() ORDER BY 1, 2"
    )
    out = {}
    for schema, table in names:
        label = table if schema == "main" else f"{schema}.{table}"
        out[label] = int(db.scalar(f'SELECT count(*) FROM "{schema}"."{table}"'))
    return out


class _Hashing:
    """A file reader that hashes what tarfile copies out of it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(datetime.now(timezone.utc).timestamp())
    return info


def _home_files(home: Path, exclude: Path) -> tuple[list[Path], list[str]]:
    """Regular files to archive (sorted) and what was skipped, relative to home."""
    files, skipped = [], []
    for root, dirs, names in os.walk(home):
        folder = Path(root)
        rel_folder = folder.relative_to(home)
        if rel_folder == Path("."):
            dirs[:] = [d for d in dirs if d not in SKIP_TOP]
        dirs[:] = [d for d in dirs if not d.endswith(".duckdb.tmp")]  # DuckDB spill folder
        dirs.sort()
        for name in sorted(names):
            path = folder / name
            rel = path.relative_to(home).as_posix()
            if path.resolve() == exclude or (rel_folder == Path("audit") and name in SKIP_AUDIT) or \
                    (rel_folder == Path(".") and name in SKIP_HOME_FILES):
                continue
            if path.is_symlink() or not path.is_file():
                skipped.append(rel)
                continue
            files.append(path)
    return files, skipped


def _write_archive(partial: Path, home: Path, files: list[Path], audit_data: bytes, head_raw: bytes | None,
                   has_log: bool, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Write the tar.gz (files, the audit snapshot, then the manifest) and fsync it; returns the file listing."""
    listing: dict[str, dict[str, Any]] = {}
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            for path in files:
                rel = path.relative_to(home).as_posix()
                with path.open("rb") as handle:
                    size = os.fstat(handle.fileno()).st_size
                    reader = _Hashing(handle)
                    try:
                        tar.addfile(_member(f"{ROOT}/{rel}", size), reader)  # type: ignore[arg-type]
                    except OSError as exc:
                        raise SdiError(f"{rel} changed while it was being backed up", "stop other SDI processes and retry") from exc
                listing[f"{ROOT}/{rel}"] = {"sha256": reader.digest.hexdigest(), "bytes": size}
            snapshot = {"audit/audit.jsonl": audit_data if has_log else None, "audit/HEAD": head_raw}
            for name, data in snapshot.items():
                if data is not None:
                    tar.addfile(_member(f"{ROOT}/{name}", len(data)), io.BytesIO(data))
                    listing[f"{ROOT}/{name}"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            body = (json.dumps({**manifest, "files": dict(sorted(listing.items()))}, indent=2) + "\n").encode("utf-8")
            tar.addfile(_member(MANIFEST, len(body)), io.BytesIO(body))
        raw.flush()
        os.fsync(raw.fileno())
    return listing


@dataclass
class BackupReport:
    """What `sdi backup` wrote."""

    out: str
    sha256: str
    bytes: int
    files: int
    tables: dict[str, int]
    audit_entries: int
    audit_head: dict[str, Any] | None
    skipped: list[str] = field(default_factory=list)
    audit_id: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def create_backup(settings: Settings, out: Path, progress: Progress = _quiet, user: str | None = None) -> BackupReport:
    """Write the whole home (machine file, vector store, audit log, documents, settings) to a .tar.gz."""
    home = settings.home
    out = out.resolve()
    if not home.is_dir():
        raise SdiError(f"the SDI home {home} does not exist: nothing to back up", "set SDI_HOME to the folder to back up")
    if out.exists():
        raise SdiError(f"{out} already exists", "choose a new file name; a backup never overwrites a file")
    out.parent.mkdir(parents=True, exist_ok=True)
    log = AuditLog(home)
    partial = out.with_name(out.name + ".partial")
    with MachineFile.for_settings(settings) as db:
        db.checkpoint()
        tables = table_counts(db)
        progress(f"machine file checkpointed: {len(tables)} tables, {sum(tables.values()):,} rows")
        files, skipped = _home_files(home, out)
        audit_data, head_raw = log.snapshot()
        head = parse_head(head_raw)
        entries = sum(1 for line in audit_data.split(b"\n")[:-1] if line.strip())
        try:
            manifest = {"format": FORMAT, "created": now_iso(), "source_home": str(home.resolve()),
                        "db_file": settings.db_path.relative_to(home).as_posix(), "tables": tables,
                        "audit": {"entries": entries, "head": head}, "skipped": skipped}
            listing = _write_archive(partial, home, files, audit_data, head_raw, log.path.exists(), manifest)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        progress(f"{len(listing)} files archived")
    os.replace(partial, out)
    os.chmod(out, 0o600)
    digest = sha256_file(out)
    report = BackupReport(str(out), digest, out.stat().st_size, len(listing), tables, entries, head, skipped)
    try:
        entry = log.append("backup", {"out": str(out), "sha256": digest, "bytes": report.bytes, "files": len(listing),
                                      "tables": tables, "audit_head_in_backup": head}, user)
        report.audit_id = entry["id"]
    except AuditDamaged as exc:  # the backup still preserves the damaged log as evidence
        report.warnings.append(f"not recorded in the audit log: {exc.message}")
    return report


@dataclass
class Check:
    """One line of the restore consistency check."""

    name: str
    expected: str
    actual: str
    ok: bool


@dataclass
class RestoreReport:
    """What `sdi restore` checked and did."""

    archive: str
    home: str
    created: str = ""
    source_home: str = ""
    checks: list[Check] = field(default_factory=list)
    restored: bool = False
    previous_home: str | None = None
    audit_id: str | None = None

    @property
    def ok(self) -> bool:
        """Every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "ok": self.ok}


def _extract(archive: Path, staging: Path) -> dict[str, Any]:
    """Unpack a backup (regular files under home/ and the manifest only); returns the manifest."""
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SdiError(f"{archive} is not a readable SDI backup ({exc})", "pass the .tar.gz `sdi backup` wrote") from exc
    with tar:
        members = tar.getmembers()
        for m in members:
            parts = Path(m.name).parts
            if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
                raise SdiError(f"{archive} holds an unsafe entry {m.name!r}", "this is not a backup written by sdi backup")
            if m.name != MANIFEST and (not parts or parts[0] != ROOT):
                raise SdiError(f"{archive} holds an unexpected entry {m.name!r}", "this is not a backup written by sdi backup")
        try:
            tar.extractall(staging, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise SdiError(f"{archive} is damaged ({exc})", "use another copy of the backup") from exc
    manifest_path = staging / MANIFEST
    if not manifest_path.is_file():
        raise SdiError(f"{archive} has no {MANIFEST}", "this is not a backup written by sdi backup")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise SdiError(f"{archive} has format {manifest.get('format')!r}, not {FORMAT}", "restore it with the SDI version that wrote it")
    return manifest


def _check_staged(staging: Path, manifest: dict[str, Any], settings: Settings, report: RestoreReport) -> None:
    listed: dict[str, dict[str, Any]] = manifest.get("files", {})
    found = {p.relative_to(staging).as_posix() for p in (staging / ROOT).rglob("*") if p.is_file()} if (staging / ROOT).is_dir() else set()
    bad = [n for n, meta in listed.items() if n not in found or sha256_file(staging / n) != meta["sha256"]]
    extra = sorted(found - set(listed))
    report.checks.append(Check("files", f"{len(listed)} as in the manifest",
                               f"{len(listed) - len(bad)} match" + (f"; differ or missing: {', '.join(bad[:5])}" if bad else "")
                               + (f"; not in the manifest: {', '.join(extra[:5])}" if extra else ""), not bad and not extra))
    if bad:
        return  # the files are not the backup's; counting rows in them would only mislead
    home = staging / ROOT
    tables: dict[str, int] = manifest.get("tables", {})
    db_file = f"{ROOT}/{manifest.get('db_file', 'machine-file.duckdb')}"
    if tables and db_file not in listed:
        report.checks.append(Check("machine file", db_file, "not in the backup", False))
    elif tables:
        try:
            with MachineFile(staging / db_file, settings.db_threads, settings.db_memory_limit) as db:
                actual = table_counts(db)
        except Exception as exc:  # noqa: BLE001 - any DuckDB error opening a copied file means it is unusable
            report.checks.append(Check("machine file", "opens", f"cannot be opened: {exc}", False))
            actual = {}
        for name, n in tables.items():
            got = actual.get(name)
            report.checks.append(Check(f"table {name}", f"{n:,} rows", "missing" if got is None else f"{got:,} rows", got == n))
    audit = AuditLog(home).verify()
    head = parse_head((home / "audit" / "HEAD").read_bytes()) if (home / "audit" / "HEAD").is_file() else None
    expected = manifest.get("audit", {})
    same_head = (head or {}).get("last_hash") == (expected.get("head") or {}).get("last_hash")
    state = "chain intact" if audit.ok else f"broken at {audit.first_bad}: {audit.reason}"
    report.checks.append(Check("audit log", f"{expected.get('entries', 0)} entries, head {(expected.get('head') or {}).get('last_id')}",
                               f"{audit.entries} entries, {state}, head {(head or {}).get('last_id')}",
                               audit.ok and same_head and audit.entries == expected.get("entries", 0)))


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _put_in_place(staged_home: Path, home: Path) -> str | None:
    """Move the checked copy to `home`; an existing non-empty home is kept aside. Returns where it went."""
    aside = None
    if home.exists():
        if any(home.iterdir()):
            db = home / "machine-file.duckdb"
            if db.is_file():
                MachineFile(db).close()  # raises a clear SdiError when another SDI process holds the home open
            aside = home.with_name(f"{home.name}.before-restore-{_stamp()}")
            shutil.move(str(home), str(aside))
        else:
            home.rmdir()
    shutil.move(str(staged_home), str(home))
    return str(aside) if aside else None


def restore_backup(settings: Settings, archive: Path, home: Path, force: bool = False,
                   progress: Progress = _quiet, user: str | None = None) -> RestoreReport:
    """Check a backup in a staging folder, then (only if every check passes) make it the home at `home`."""
    archive, home = archive.resolve(), home.resolve()
    if not archive.is_file():
        raise SdiError(f"backup file {archive} not found", "pass the .tar.gz written by sdi backup")
    if home.exists() and not home.is_dir():
        raise SdiError(f"{home} exists and is not a folder", "restore into a folder with --home DIR")
    if home.is_dir() and any(home.iterdir()) and not force:
        raise SdiError(f"{home} is not empty: restore refuses to replace an existing home",
                       "restore into a new folder with --home DIR, or add --force (the current home is kept aside)")
    home.parent.mkdir(parents=True, exist_ok=True)
    report = RestoreReport(str(archive), str(home))
    archive_sha256 = sha256_file(archive)  # before anything moves (the archive may live in the home it replaces)
    staging = Path(tempfile.mkdtemp(prefix=f".{home.name}.restore-", dir=home.parent))
    try:
        progress(f"unpacking {archive.name} into {staging}")
        manifest = _extract(archive, staging)
        report.created, report.source_home = manifest.get("created", ""), manifest.get("source_home", "")
        secure_tree(staging)
        progress("checking file hashes, row counts and the audit chain")
        _check_staged(staging, manifest, settings, report)
        if not report.ok:
            return report
        report.previous_home = _put_in_place(staging / ROOT, home)
        report.restored = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    secure_tree(home)
    entry = AuditLog(home).append("restore", {
        "archive": str(archive), "archive_sha256": archive_sha256, "backup_created": report.created,
        "source_home": report.source_home, "previous_home": report.previous_home,
        "checks": [asdict(c) for c in report.checks],
    }, user)
    report.audit_id = entry["id"]
    return report
