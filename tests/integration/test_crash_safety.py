"""kill -9 in the middle of real work, then re-run: the result equals an uninterrupted run, and the audit log holds."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sdi.demo.generator import generate
from sdi.audit.log import AuditLog
from sdi.store import MachineFile
from sdi.models import ENTITIES, ENTITY_ORDER
from sdi.store.files import exposed_paths

SDI = str(Path(sys.executable).parent / "sdi")
INGEST_ENV = {"SDI_INGEST_BATCH_ROWS": "20000", "SDI_DB_THREADS": "2"}


def env_for(base: dict[str, str], home: Path, **extra: str) -> dict[str, str]:
    return {**base, "SDI_HOME": str(home), **extra}


def run_ok(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, (args, result.stderr[-3000:])
    return result


def kill_when(args: list[str], env: dict[str, str], marker: str, delay: float = 0.0) -> list[str]:
    """Start a command, SIGKILL it once `marker` appears on stderr (after `delay` seconds); returns the lines seen."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    seen: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            time.sleep(delay)
            break
    else:
        proc.wait()
        pytest.fail(f"{marker!r} never appeared; the process ended with {proc.returncode}: {''.join(seen)[-2000:]}")
    assert proc.poll() is None, f"the process finished before it could be killed: {''.join(seen)[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    proc.stderr.close()
    return seen


def fingerprint(db_path: Path, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of every row's full content, per table."""
    with MachineFile(db_path) as db:
        return {t: tuple(db.sql(f"SELECT count(*), coalesce(sum(hash(x)), 0)::VARCHAR FROM {t} x")[0]) for t in tables}


def test_killed_ingest_then_rerun_equals_an_uninterrupted_import(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    exports = tmp_path / "exports"
    generate(exports, machines=1000, seed=17)
    mapping = str(exports / "mapping.yaml")
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    run_ok([SDI, "ingest", "--json", mapping], env_for(sdi_env, reference, **INGEST_ENV))

    seen = kill_when([SDI, "ingest", mapping], env_for(sdi_env, crashed, **INGEST_ENV),
                     "importing telemetry.csv as telemetry", delay=0.1)  # its import takes ~1 s: killed mid-way
    assert "contracts.csv: " in "".join(seen)  # the files before telemetry were committed
    assert "telemetry.csv: " not in "".join(seen)  # and the kill came before telemetry's commit
    tables = [ENTITIES[name].table for name in ENTITY_ORDER]
    with MachineFile(crashed / "machine-file.duckdb") as db:  # the killed telemetry transaction left nothing behind
        assert db.scalar("SELECT count(*) FROM telemetry") == 0
        assert db.scalar("SELECT count(*) FROM machines") == 1000
        assert db.sql("SELECT entity FROM imports ORDER BY import_id") == [("model",), ("customer",), ("machine",), ("contract",)]

    rerun = json.loads(run_ok([SDI, "ingest", "--json", mapping], env_for(sdi_env, crashed, **INGEST_ENV)).stdout)
    assert {f["entity"]: f["unchanged"] for f in rerun["files"]}["machine"] == 1000  # re-imported, nothing doubled
    expected = fingerprint(reference / "machine-file.duckdb", tables)
    assert expected["telemetry"][0] > 500_000
    assert fingerprint(crashed / "machine-file.duckdb", tables) == expected
    with MachineFile(crashed / "machine-file.duckdb") as db:
        assert db.scalar("SELECT count(*) FROM imports WHERE entity = 'telemetry'") == 1
        assert db.get_meta("data_as_of") == "2026-11-01"


INDEX_SMALL_BATCHES = (
    "import sys, retrieval.indexer as ix; ix.EMBED_BATCH = 16; sys.argv = ['sdi', 'index', '--no-documents']; "
    "from sdi.cli.main import main; main()"
)


def store_contents(home: Path) -> tuple[dict[str, tuple[str, str]], dict[str, np.ndarray], dict[str, object]]:
    """(id -> (document, metadata json), id -> embedding, collection state) of a home's Chroma store."""
    from retrieval.vector_store import open_store

    store = open_store("embedded", home / "vector-store")
    docs = {i: (d, json.dumps(m, sort_keys=True)) for ids, ds, ms in store.scan() for i, d, m in zip(ids, ds, ms)}
    return docs, store.embeddings(sorted(docs)), store.state()


def test_killed_index_then_rerun_equals_an_uninterrupted_index(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    exports = tmp_path / "exports"
    generate(exports, machines=40, seed=23)
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    run_ok([SDI, "ingest", "--json", str(exports / "mapping.yaml")], env_for(sdi_env, reference))
    crashed.mkdir(mode=0o700)
    shutil.copy2(reference / "machine-file.duckdb", crashed / "machine-file.duckdb")
    full = json.loads(run_ok([SDI, "index", "--json", "--no-documents"], env_for(sdi_env, reference)).stdout)
    chunks = full["chunks"]
    assert full["embedded"] == chunks > 160

    # Small embedding batches so several are stored before the kill; the progress line after 128 chunks (8 batches)
    # is printed only once they are upserted.
    kill_when([sys.executable, "-c", INDEX_SMALL_BATCHES], env_for(sdi_env, crashed), f"128/{chunks:,} chunks embedded")
    rerun = json.loads(run_ok([SDI, "index", "--json", "--no-documents"], env_for(sdi_env, crashed)).stdout)
    assert rerun["chunks"] == chunks and rerun["unchanged"] >= 128 and rerun["embedded"] == chunks - rerun["unchanged"]

    want_docs, want_vectors, want_state = store_contents(reference)
    got_docs, got_vectors, got_state = store_contents(crashed)
    assert got_docs == want_docs  # same ids, texts and metadata (which carries each chunk's content hash)
    for cid in want_docs:  # batch composition changes padding, so floats may differ in the last bits
        np.testing.assert_allclose(got_vectors[cid], want_vectors[cid], atol=1e-4)
    assert not str(got_state["generation"]).startswith("dirty-") and got_state["chunks"] == chunks
    rows = [json.loads((h / "vector-store" / "catalog" / "chunks.json").read_text())["rows"] for h in (reference, crashed)]
    assert rows[0] == rows[1]
    assert exposed_paths(reference) == []  # the vector store written by `sdi index` is owner-only too


APPEND_LOOP = (
    "import sys; from pathlib import Path; from sdi.audit.log import AuditLog; log = AuditLog(Path(sys.argv[1]))\n"
    "for i in range(100000):\n"
    "    e = log.append('run', {'i': i, 'pad': 'x' * 3000})\n"
    "    print(e['id'], file=sys.stderr, flush=True)\n"
)


def test_audit_log_survives_kill_during_appends(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    for round_ in range(3):
        kill_when([sys.executable, "-c", APPEND_LOOP, str(home)], sdi_env, f"A-{(round_ + 1) * 40:07d}")
        result = AuditLog(home).verify()  # intact; at most one entry ahead of the head anchor
        if not result.ok and "truncated" in result.reason:
            # SIGKILL can cut one write(2) where the line crosses a page boundary; the next append repairs it
            AuditLog(home).append("run", {"repair_after_kill": round_})
            result = AuditLog(home).verify()
        assert result.ok, result
        checked = subprocess.run([SDI, "audit", "verify"], capture_output=True, text=True, env=env_for(sdi_env, home))
        assert checked.returncode == 0 and f"intact: {result.entries:,} entries" in checked.stdout
        entry = AuditLog(home).append("run", {"after_kill": round_})
        assert entry["seq"] == result.entries + 1 and AuditLog(home).verify() == type(result)(True, entry["seq"])

    # A power loss can leave half a line (a process kill cannot: the line goes out in one write). Simulate it.
    log = AuditLog(home)
    count = log.verify().entries
    with log.path.open("ab") as handle:
        handle.write(b'{"hash":"5d41","id":"A-%07d","kind":"run","payload":{"i":' % (count + 1))
    torn = subprocess.run([SDI, "audit", "verify"], capture_output=True, text=True, env=env_for(sdi_env, home))
    assert torn.returncode == 1 and f"BROKEN at A-{count + 1:07d}" in torn.stdout and "truncated" in torn.stdout
    entry = log.append("run", {"after": "power loss"})  # repairs first: the torn line never became an entry
    repair = log.get(f"A-{count + 1:07d}")
    assert repair["kind"] == "repair" and repair["payload"]["fragment_id"] == f"A-{count + 1:07d}"
    assert entry["seq"] == count + 2 and log.verify().ok
