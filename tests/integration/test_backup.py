"""`sdi backup` / `sdi restore` with the real command, a real machine file, a real Chroma store and the audit log."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from sdi.audit.log import AuditLog
from sdi.store import MachineFile
from sdi.store.files import exposed_paths
from tests.unit.test_audit import draft_payload

SDI = str(Path(sys.executable).parent / "sdi")


def sdi(args: list[str], home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SDI, *args], capture_output=True, text=True, env={**env, "SDI_HOME": str(home)}, timeout=300)


def table_fingerprints(db_path: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash of every table."""
    with MachineFile(db_path) as db:
        names = [r[0] for r in db.sql("SELECT table_name FROM duckdb_tables() WHERE NOT temporary UNION ALL "
                                      "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary ORDER BY 1")]
        return {n: tuple(db.sql(f'SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM "{n}" t')[0]) for n in names}


def chroma_contents(vector_dir: Path) -> dict[str, tuple[str, str]]:
    from retrieval.vector_store import open_store

    store = open_store("embedded", vector_dir)
    return {i: (d, json.dumps(m, sort_keys=True)) for ids, docs, metas in store.scan() for i, d, m in zip(ids, docs, metas)}


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, sdi_env: dict[str, str]) -> tuple[Path, Path]:
    """A home after `sdi demo` (import, triggers), with documents, settings files, a Chroma store and drafts; and its backup."""
    root = tmp_path_factory.mktemp("backup")
    home = root / "home"
    demo = sdi(["demo", "--machines", "40", "--seed", "5", "--no-serve"], home, sdi_env)
    assert demo.returncode == 0, demo.stderr[-2000:]
    with MachineFile(home / "machine-file.duckdb") as db:
        serial = db.sql("SELECT min(serial) FROM machines")[0][0]
    import shutil

    shutil.rmtree(home / "audit")  # start the log afresh so the entries below are the whole chain
    (home / "documents" / serial).mkdir(parents=True)
    (home / "documents" / serial / "inspection-2025.txt").write_text("Spindle inspected; bearing 4471-220 worn.\n")
    (home / "config.yaml").write_text("db_threads: 2\n")
    (home / "rules.yaml").write_text("# site overrides\n")
    (home / "bench").mkdir()
    (home / "bench" / "scratch.csv").write_text("large, regenerable\n")
    from retrieval.vector_store import open_store

    store = open_store("embedded", home / "vector-store")
    rng = np.random.default_rng(1)
    store.upsert([f"service_record:SR-{i}#c0" for i in range(30)], rng.normal(size=(30, 384)).astype(np.float32),
                 [{"serial": serial, "n": i} for i in range(30)], [f"note {i}: replaced part 4471-{i:03d}" for i in range(30)])
    del store
    log = AuditLog(home)
    for n in range(3):
        log.append("draft", draft_payload(n), user="rep")
    out = root / "backup.tar.gz"
    made = sdi(["backup", "--out", str(out)], home, sdi_env)
    assert made.returncode == 0, made.stderr
    return home, out


def test_backup_contents_and_manifest(populated: tuple[Path, Path], sdi_env: dict[str, str]) -> None:
    home, out = populated
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    files = manifest["files"]
    assert set(files) == names - {"MANIFEST.json"}
    for expected in ("home/machine-file.duckdb", "home/audit/audit.jsonl", "home/audit/HEAD", "home/config.yaml",
                     "home/rules.yaml", "home/vector-store/chroma/chroma.sqlite3", "home/demo-data/mapping.yaml"):
        assert expected in files
    assert any(n.startswith("home/documents/") for n in files)
    assert not any(n.startswith("home/bench/") for n in files)
    for name in ("config.yaml", "rules.yaml"):
        assert files[f"home/{name}"]["sha256"] == hashlib.sha256((home / name).read_bytes()).hexdigest()
    live = (home / "audit" / "audit.jsonl").read_bytes()  # now one entry longer: the backup itself
    archived = b"".join(line + b"\n" for line in live.split(b"\n")[:3])
    assert files["home/audit/audit.jsonl"]["sha256"] == hashlib.sha256(archived).hexdigest()
    assert manifest["tables"] == {n: c for n, (c, _) in table_fingerprints(home / "machine-file.duckdb").items()}
    assert manifest["tables"]["telemetry"] > 0 and manifest["tables"]["opportunities"] > 0
    assert manifest["audit"]["entries"] == 3
    assert manifest["audit"]["head"]["last_hash"] == AuditLog(home).get("A-0000003")["hash"]
    backup_entry = AuditLog(home).list(kind="backup")[0]
    assert backup_entry["payload"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert backup_entry["payload"]["audit_head_in_backup"]["last_id"] == "A-0000003"
    again = sdi(["backup", "--out", str(out)], home, sdi_env)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_restore_round_trip_checks_and_force(populated: tuple[Path, Path], tmp_path: Path, sdi_env: dict[str, str]) -> None:
    home, out = populated
    target = tmp_path / "restored"
    done = sdi(["restore", str(out), "--home", str(target)], tmp_path / "unused", sdi_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   files" in done.stdout and "ok   table telemetry" in done.stdout and "ok   audit log" in done.stdout
    assert f"restored into {target}" in done.stdout
    assert table_fingerprints(target / "machine-file.duckdb") == table_fingerprints(home / "machine-file.duckdb")
    assert chroma_contents(target / "vector-store") == chroma_contents(home / "vector-store")
    assert (target / "documents").is_dir() and (target / "config.yaml").read_text() == "db_threads: 2\n"
    log = AuditLog(target)
    assert log.verify().ok and [e["kind"] for e in log.entries()] == ["draft", "draft", "draft", "restore"]
    restore = log.get("A-0000004")["payload"]
    assert restore["archive_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() and all(c["ok"] for c in restore["checks"])
    assert exposed_paths(target) == []
    refused = sdi(["restore", str(out), "--home", str(target)], tmp_path / "unused", sdi_env)
    assert refused.returncode == 2 and "is not empty" in refused.stderr and "--force" in refused.stderr
    forced = sdi(["restore", str(out), "--home", str(target), "--force"], tmp_path / "unused", sdi_env)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("restored.before-restore-")]
    assert AuditLog(aside).list(limit=1)[0]["kind"] == "restore" and f"previous home kept in {aside}" in forced.stdout


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy a backup, passing each member's bytes through `change(name, data)`."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w:gz") as tout:
        for member in tin.getmembers():
            data = change(member.name, tin.extractfile(member).read())  # type: ignore[union-attr]
            member.size = len(data)
            tout.addfile(member, io.BytesIO(data))


def test_restore_refuses_a_tampered_backup_and_leaves_the_target_alone(
    populated: tuple[Path, Path], tmp_path: Path, sdi_env: dict[str, str]
) -> None:
    _, out = populated
    flipped = tmp_path / "flipped.tar.gz"
    _rewrite(out, flipped, lambda n, d: d.replace(b'"rep"', b'"rex"', 1) if n == "home/audit/audit.jsonl" else d)
    result = sdi(["restore", str(flipped), "--home", str(tmp_path / "t1")], tmp_path / "unused", sdi_env)
    assert result.returncode == 1 and "FAIL files" in result.stdout and "home/audit/audit.jsonl" in result.stdout
    assert "NOT restored" in result.stdout and not (tmp_path / "t1").exists()

    def more_rows(name: str, data: bytes) -> bytes:
        if name != "MANIFEST.json":
            return data
        manifest = json.loads(data)
        manifest["tables"]["service_records"] += 1
        return json.dumps(manifest).encode()

    counted = tmp_path / "counted.tar.gz"
    _rewrite(out, counted, more_rows)
    result = sdi(["restore", str(counted), "--home", str(tmp_path / "t2")], tmp_path / "unused", sdi_env)
    assert result.returncode == 1 and "FAIL table service_records" in result.stdout and "ok   files" in result.stdout
    assert not (tmp_path / "t2").exists()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar")
    result = sdi(["restore", str(junk), "--home", str(tmp_path / "t3")], tmp_path / "unused", sdi_env)
    assert result.returncode == 2 and "not a readable SDI backup" in result.stderr


def test_backup_refuses_while_another_process_writes_the_machine_file(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    with MachineFile(home / "machine-file.duckdb"):
        result = sdi(["backup", "--out", str(tmp_path / "b.tar.gz")], home, sdi_env)
    assert result.returncode == 2 and "another SDI process may hold it open" in result.stderr
    assert not (tmp_path / "b.tar.gz").exists() and not (tmp_path / "b.tar.gz.partial").exists()


def test_backup_of_a_damaged_audit_log_is_written_but_fails(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    log = AuditLog(home)
    for n in range(3):
        log.append("draft", draft_payload(n))
    rows = log.path.read_text().splitlines(keepends=True)
    log.path.write_text("".join(rows[:-1]))
    result = sdi(["backup", "--out", str(tmp_path / "b.tar.gz")], home, sdi_env)
    assert result.returncode == 1 and "WARNING not recorded in the audit log" in result.stdout
    with tarfile.open(tmp_path / "b.tar.gz") as tar:  # the damaged log is preserved as it is, as evidence
        assert tar.extractfile("home/audit/audit.jsonl").read() == log.path.read_bytes()  # type: ignore[union-attr]


def test_data_at_rest_is_owner_only_after_a_demo_run(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    steps = [
        ["demo", "--machines", "30", "--seed", "3", "--no-serve", "--no-outcomes"],  # exports, import, triggers
        ["backup", "--out", str(tmp_path / "b.tar.gz")],  # audit append
        ["audit", "export", "--out", str(home / "exports" / "bundle")],  # audit append + bundle inside home
        ["restore", str(tmp_path / "b.tar.gz"), "--home", str(tmp_path / "restored")],
    ]
    for args in steps:
        result = sdi(args, home, sdi_env)
        assert result.returncode == 0, (args, result.stderr[-2000:])
    assert [e["kind"] for e in AuditLog(home).entries()] == ["ingest", "triggers_run", "backup", "audit_export"]
    assert exposed_paths(home) == []
    assert exposed_paths(tmp_path / "restored") == []
    assert stat.S_IMODE((tmp_path / "b.tar.gz").stat().st_mode) == 0o600
    shutil.rmtree(tmp_path / "restored")
