"""Audit log: chaining, head anchor, tamper detection, crash-torn tails, bundles, owner-only files."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdi.audit.log import (
    GENESIS,
    AuditDamaged,
    AuditLog,
    canonical,
    entry_hash,
    prompt_sha256,
    prompt_text,
    sha256_text,
    verify_lines,
)
from sdi.audit.bundle import export_bundle, verify_bundle
from sdi.store.files import exposed_paths, private_umask, secure_tree

MESSAGES = [
    {"role": "system", "content": "You are a service advisor. Cite sources as [T1] or [H1]."},
    {"role": "user", "content": "Sources:\n[T1] Contract C-1042 ends 2026-12-15.\n[H1] Replaced spindle bearing 4471-220.\nWhy now?"},
]


def draft_payload(n: int = 1, messages: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A draft entry shaped like sdi.drafting.record.record_draft writes it."""
    msgs = messages or MESSAGES
    texts = [("T1", "contract:C-1042", f"Contract C-1042 ends 2026-12-15 (draft {n})."),
             ("H1", "service_record:SR-5531#c0", "Replaced spindle bearing 4471-220; vibration back to 2.1 mm/s.")]
    return {
        "kind": "why",
        "subject": {"opportunity_id": f"OPP-{n}", "serial": "TL-3030-0001"},
        "sources": [{"id": i, "source_id": s, "text": t, "sha256": sha256_text(t)} for i, s, t in texts],
        "prompt": {"name": "why", "version": 1, "sha256": "f" * 64, "template": "Sources:\n$sources\nWhy now?\n"},
        "rendered_prompt": msgs,
        "rendered_prompt_sha256": sha256_text(canonical(msgs)),
    }


def build(home: Path, n: int = 5) -> AuditLog:
    log = AuditLog(home)
    for i in range(1, n + 1):
        log.append("draft" if i % 2 else "import", draft_payload(i) if i % 2 else {"file": f"f{i}.csv", "rows": i}, user="u")
    return log


def lines(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def write(log: AuditLog, content: list[str] | str) -> None:
    log.path.write_text(content if isinstance(content, str) else "".join(content), encoding="utf-8")


# --- appending and the existing API -------------------------------------------------------------------------


def test_entries_chain_and_head_anchor(tmp_path: Path) -> None:
    log = build(tmp_path, 4)
    entries = list(log.entries())
    assert [e["id"] for e in entries] == ["A-0000001", "A-0000002", "A-0000003", "A-0000004"]
    assert entries[0]["prev"] == GENESIS
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:]))
    assert all(entry_hash(e) == e["hash"] for e in entries)
    assert log.head() == {"count": 4, "last_id": "A-0000004", "last_hash": entries[-1]["hash"], "updated": entries[-1]["ts"]}
    assert log.verify().ok and log.verify().entries == 4
    assert verify_lines(lines(log)).ok
    assert log.get("A-0000002")["payload"] == {"file": "f2.csv", "rows": 2}
    assert [e["id"] for e in log.list(kind="draft")] == ["A-0000003", "A-0000001"]
    assert [e["id"] for e in log.list(limit=2)] == ["A-0000004", "A-0000003"]
    for path in (log.path, log.head_path, log.lock_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.folder.stat().st_mode) == 0o700


def test_empty_log_verifies_and_reading_creates_nothing(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "home")
    assert log.verify().ok and log.verify().entries == 0
    assert log.list() == [] and log.head() is None
    assert not (tmp_path / "home").exists()


def test_prompt_helpers_match_what_drafting_records() -> None:
    assert prompt_sha256(MESSAGES) == sha256_text(canonical(MESSAGES))
    assert prompt_sha256("plain prompt") == sha256_text("plain prompt")
    assert prompt_text("plain prompt") == "plain prompt"
    assert prompt_text(MESSAGES) == f"--- system ---\n{MESSAGES[0]['content']}\n--- user ---\n{MESSAGES[1]['content']}"


def _append_many(home: str, worker: int, n: int) -> None:
    log = AuditLog(Path(home))
    for i in range(n):
        log.append("run", {"worker": worker, "i": i})


def test_concurrent_appends_from_several_processes_stay_one_chain(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = AuditLog(tmp_path)
    result = log.verify()
    assert result.ok and result.entries == 100 and not result.note
    assert sorted((e["payload"]["worker"], e["payload"]["i"]) for e in log.entries()) == [(w, i) for w in range(4) for i in range(25)]


# --- tampering ----------------------------------------------------------------------------------------------


def test_edited_field_is_named(tmp_path: Path) -> None:
    log = build(tmp_path)
    rows = lines(log)
    entry = json.loads(rows[2])
    entry["payload"]["subject"]["opportunity_id"] = "OPP-999"
    rows[2] = canonical(entry) + "\n"
    write(log, rows)
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000003" and "altered" in result.reason


def test_edited_source_text_with_rehashed_entry_is_caught_by_the_chain(tmp_path: Path) -> None:
    log = build(tmp_path)
    rows = lines(log)
    entry = json.loads(rows[0])
    entry["payload"]["sources"][0]["text"] = "Contract C-1042 ends 2027-12-15."
    entry["hash"] = entry_hash(entry)  # a careful forger rehashes the entry ...
    rows[0] = canonical(entry) + "\n"
    write(log, rows)
    result = log.verify()  # ... but the recorded sha256 of the cited text no longer matches
    assert not result.ok and result.first_bad == "A-0000001" and "source T1" in result.reason


def test_deleted_entry_is_named(tmp_path: Path) -> None:
    log = build(tmp_path)
    rows = lines(log)
    del rows[1]
    write(log, rows)
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000003"
    assert "A-0000002 is missing" in result.reason


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    log = build(tmp_path)
    rows = lines(log)
    rows[1], rows[2] = rows[2], rows[1]
    write(log, rows)
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000003" and "sequence 3 where 2 was expected" in result.reason


def test_last_line_cut_in_half_is_truncation(tmp_path: Path) -> None:
    log = build(tmp_path)
    data = log.path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    log.path.write_bytes(data[: last_start + (len(data) - last_start) // 2])
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000005" and "truncated" in result.reason


def test_dropped_last_entry_is_detected_by_the_head_anchor(tmp_path: Path) -> None:
    log = build(tmp_path)
    write(log, lines(log)[:-1])
    assert verify_lines(lines(log)).ok  # the chain alone cannot see it
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000005" and "removed from the end" in result.reason


def test_replaced_last_entry_and_deleted_head(tmp_path: Path) -> None:
    log = build(tmp_path)
    rows = lines(log)
    forged = json.loads(rows[-1])
    forged["payload"]["rows"] = 1000
    forged["hash"] = entry_hash(forged)
    write(log, rows[:-1] + [canonical(forged) + "\n"])
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000005" and "head anchor" in result.reason
    write(log, rows)
    log.head_path.unlink()
    result = log.verify()
    assert not result.ok and result.first_bad == "HEAD" and "head anchor is missing" in result.reason
    with pytest.raises(AuditDamaged, match="head anchor HEAD is missing"):
        log.append("run", {})
    repair = log.repair(user="admin")  # a human recreates it over the verified chain, on the record
    assert repair["id"] == "A-0000006" and repair["payload"]["head_created"]["last"] == "A-0000005"
    assert log.verify().ok and log.verify().entries == 6
    old_head = log.head_path.read_bytes()
    log.append("run", {})
    log.append("run", {})
    log.head_path.write_bytes(old_head)
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000008" and "not covered by the head anchor" in result.reason


def test_append_refuses_a_damaged_tail(tmp_path: Path) -> None:
    log = build(tmp_path)
    write(log, lines(log)[:-1])
    before = log.path.read_bytes()
    with pytest.raises(AuditDamaged) as err:
        log.append("draft", draft_payload(9))
    assert "A-0000004 does not match the head anchor" in err.value.message and "sdi audit verify" in (err.value.hint or "")
    assert log.path.read_bytes() == before


# --- crashes ------------------------------------------------------------------------------------------------


def test_torn_tail_after_a_crash_is_repaired_and_recorded(tmp_path: Path) -> None:
    log = build(tmp_path, 3)
    intact = log.path.read_bytes()
    torn = b'{"hash":"ab12","id":"A-0000004","kind":"dra'
    with log.path.open("ab") as handle:
        handle.write(torn)  # an append that died before its newline (HEAD still says 3)
    result = log.verify()
    assert not result.ok and result.first_bad == "A-0000004" and "truncated" in result.reason
    assert [e["id"] for e in log.entries()] == ["A-0000001", "A-0000002", "A-0000003"]
    entry = log.append("draft", draft_payload(4))
    repair = log.get("A-0000004")
    assert repair["kind"] == "repair" and entry["id"] == "A-0000005"
    assert repair["payload"]["bytes"] == len(torn) and repair["payload"]["sha256"] == __import__("hashlib").sha256(torn).hexdigest()
    assert repair["payload"]["after"] == "A-0000003" and repair["payload"]["fragment_id"] == "A-0000004"
    assert (tmp_path / repair["payload"]["kept_as"]).read_bytes() == torn
    assert log.path.read_bytes().startswith(intact)
    assert log.verify().ok and log.verify().entries == 5


def test_torn_tail_that_disagrees_with_head_is_refused(tmp_path: Path) -> None:
    log = build(tmp_path, 3)
    data = log.path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    log.path.write_bytes(data[: last_start + 40])  # the head's own last entry cut: not an unacknowledged append
    with pytest.raises(AuditDamaged):
        log.append("run", {})
    with pytest.raises(AuditDamaged):
        log.repair()


def test_head_one_behind_after_a_crash_is_a_note_and_the_next_append_catches_up(tmp_path: Path) -> None:
    log = build(tmp_path, 3)
    old_head = log.head_path.read_bytes()
    log.append("run", {"n": 4})
    log.head_path.write_bytes(old_head)  # the line was written and fsynced, the head replace never happened
    result = log.verify()
    assert result.ok and result.entries == 4 and "one entry behind" in result.note
    log.append("run", {"n": 5})
    assert log.head()["count"] == 5 and log.verify().ok and not log.verify().note


def test_repair_with_nothing_to_repair(tmp_path: Path) -> None:
    log = build(tmp_path, 2)
    assert log.repair() is None and log.verify().entries == 2


# --- bundles ------------------------------------------------------------------------------------------------


def test_bundle_round_trip_and_tampering(tmp_path: Path) -> None:
    log = build(tmp_path / "home", 5)
    out = tmp_path / "bundle"
    manifest = export_bundle(log, out)
    assert manifest["entries"] == 5 and manifest["sources"] == 4  # 3 drafts x 2 texts; the H1 text is the same in all three
    check = verify_bundle(out)
    assert check.ok and check.sources == 6 and check.files == len(manifest["files"])
    assert exposed_paths(out) == []
    source = next(p for p in (out / "sources").iterdir() if b"4471-220" in p.read_bytes())
    original = source.read_bytes()
    source.write_bytes(original.replace(b"4471-220", b"4471-221"))
    check = verify_bundle(out)
    assert not check.ok and check.chain.ok
    assert any(source.name in p and "altered" in p for p in check.problems)
    source.write_bytes(original)
    (out / "notes.txt").write_text("added later")
    assert any("notes.txt: not listed" in p for p in verify_bundle(out).problems)
    (out / "notes.txt").unlink()
    rows = (out / "audit.jsonl").read_text().splitlines(keepends=True)
    (out / "audit.jsonl").write_text("".join(rows[:-1]))
    check = verify_bundle(out)
    assert not check.ok and check.chain.first_bad == "A-0000005" and "removed from the end" in check.chain.reason


def test_export_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    log = build(tmp_path / "home", 1)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    with pytest.raises(Exception, match="not an empty folder"):
        export_bundle(log, tmp_path / "out")


# --- owner-only files ---------------------------------------------------------------------------------------


def test_secure_tree_makes_everything_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "vector-store" / "catalog").mkdir(parents=True)
    (home / "vector-store" / "catalog" / "chunks.json").write_text("{}")
    (home / "rules.yaml").write_text("rules: {}")
    (home / "tool.sh").write_text("#!/bin/sh\n")
    os.chmod(home / "tool.sh", 0o755)
    os.chmod(home / "rules.yaml", 0o664)
    os.chmod(home / "vector-store", 0o755)
    (home / "link").symlink_to("/etc/hostname")
    assert len(exposed_paths(home)) >= 4
    assert secure_tree(home) >= 4
    assert exposed_paths(home) == []
    assert stat.S_IMODE((home / "tool.sh").stat().st_mode) == 0o700  # the owner keeps execute
    assert stat.S_IMODE((home / "rules.yaml").stat().st_mode) == 0o600
    assert stat.S_IMODE(Path("/etc/hostname").stat().st_mode) & 0o004  # the symlink's target is left alone
    assert secure_tree(home) == 0


def test_private_umask_applies_to_new_files() -> None:
    code = (
        "import os, stat, tempfile, pathlib; from sdi.store.files import private_umask; os.umask(0o022); "
        "old = private_umask(); d = pathlib.Path(tempfile.mkdtemp()); (d / 'f').write_text('x'); (d / 's').mkdir(); "
        "print(oct(old), oct(stat.S_IMODE((d / 'f').stat().st_mode)), oct(stat.S_IMODE((d / 's').stat().st_mode)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0o22", "0o600", "0o700"]
    assert private_umask is not None


def test_latest_reads_the_newest_entry_of_a_kind_from_the_end(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    assert log.latest("triggers_run") is None  # no log yet
    log.append("triggers_run", {"as_of": "2026-01-01"})
    for i in range(3000):  # ~450 kB: looking for a kind that is not there reads back in several 256 kB steps
        log.append("draft", {"n": i, "pad": "x" * 100})
    log.append("triggers_run", {"as_of": "2026-02-01"}, user="admin")
    log.append("draft", {"n": -1})
    found = log.latest("triggers_run")
    assert found is not None and found["payload"]["as_of"] == "2026-02-01" and found["user"] == "admin"
    assert log.latest("ingest") is None
