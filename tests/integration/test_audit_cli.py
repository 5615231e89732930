"""The real `sdi audit …` commands in subprocesses: listing, showing prompts, verifying, exporting, tampering."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sdi.audit.log import AuditLog, canonical, entry_hash, sha256_text
from tests.unit.test_audit import MESSAGES, draft_payload

SDI = str(Path(sys.executable).parent / "sdi")


def sdi(args: list[str], home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SDI, *args], capture_output=True, text=True, env={**env, "SDI_HOME": str(home)}, timeout=120)


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """A home whose log holds drafts, an import and a run."""
    log = AuditLog(tmp_path / "home")
    log.append("import", {"mapping": "mapping.yaml", "rows_stored": 120}, user="admin")
    log.append("draft", draft_payload(1), user="rep.north")
    log.append("trigger_run", {"as_of": "2026-11-01", "triggers": 14}, user=None)
    log.append("draft", draft_payload(2), user="tech.meyer")
    return tmp_path / "home"


def test_list_and_show(home: Path, sdi_env: dict[str, str]) -> None:
    text = sdi(["audit", "list"], home, sdi_env)
    assert text.returncode == 0, text.stderr
    rows = text.stdout.splitlines()
    assert [r.split()[0] for r in rows] == ["A-0000004", "A-0000003", "A-0000002", "A-0000001"]
    assert "why OPP-2 · 2 sources · prompt why v1" in rows[0] and "tech.meyer" in rows[0]
    drafts = json.loads(sdi(["audit", "list", "--kind", "draft", "--limit", "1", "--json"], home, sdi_env).stdout)
    assert [d["id"] for d in drafts] == ["A-0000004"]
    shown = sdi(["audit", "show", "A-0000002", "--json"], home, sdi_env)
    assert json.loads(shown.stdout) == AuditLog(home).get("A-0000002")
    assert "kind draft  user rep.north" in sdi(["audit", "show", "2"], home, sdi_env).stdout
    intact = sdi(["audit", "verify"], home, sdi_env)
    assert intact.returncode == 0 and "intact: 4 entries; chain, hashes and head anchor verified" in intact.stdout
    _drop_last_entry(home)
    as_json = sdi(["audit", "verify", "--json"], home, sdi_env)
    assert as_json.returncode == 1
    assert {k: v for k, v in json.loads(as_json.stdout).items() if k != "reason"} == {
        "log": str(home / "audit" / "audit.jsonl"), "ok": False, "entries": 3, "first_bad": "A-0000004", "note": ""}
    missing = sdi(["audit", "show", "A-0000099"], home, sdi_env)
    assert missing.returncode == 2 and "no audit entry A-0000099" in missing.stderr and "Traceback" not in missing.stderr


def test_show_prompt_prints_the_exact_prompt_and_checks_its_hash(home: Path, sdi_env: dict[str, str]) -> None:
    shown = sdi(["audit", "show", "A-0000002", "--prompt"], home, sdi_env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"--- system ---\n{MESSAGES[0]['content']}\n--- user ---\n{MESSAGES[1]['content']}\n"
    assert f"sha256 {sha256_text(canonical(MESSAGES))} matches rendered_prompt_sha256" in shown.stderr
    as_json = sdi(["audit", "show", "A-0000002", "--prompt", "--json"], home, sdi_env)
    assert json.loads(as_json.stdout) == MESSAGES
    no_prompt = sdi(["audit", "show", "A-0000001", "--prompt"], home, sdi_env)
    assert no_prompt.returncode == 2 and "records no rendered prompt" in no_prompt.stderr


def test_show_prompt_fails_when_the_recorded_hash_differs(tmp_path: Path, sdi_env: dict[str, str]) -> None:
    payload = draft_payload(1)
    payload.pop("rendered_prompt_sha256")
    payload["rendered_prompt_sha256"] = sha256_text("a different prompt")
    # Written by a buggy writer (not tampering): the chain is intact, the recorded prompt hash is not.
    AuditLog(tmp_path / "h").append("draft", payload)
    shown = sdi(["audit", "show", "1", "--prompt"], tmp_path / "h", sdi_env)
    assert shown.returncode == 1 and "DIFFERS from rendered_prompt_sha256" in shown.stderr
    verified = sdi(["audit", "verify"], tmp_path / "h", sdi_env)
    assert verified.returncode == 1 and "A-0000001" in verified.stdout and "rendered_prompt" in verified.stdout


def _rows(home: Path) -> list[str]:
    return (home / "audit" / "audit.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def _write(home: Path, rows: list[str]) -> None:
    (home / "audit" / "audit.jsonl").write_text("".join(rows), encoding="utf-8")


def _edit_field(home: Path) -> None:
    rows = _rows(home)
    entry = json.loads(rows[1])
    entry["user"] = "someone.else"
    rows[1] = canonical(entry) + "\n"
    _write(home, rows)


def _delete_entry(home: Path) -> None:
    rows = _rows(home)
    del rows[2]
    _write(home, rows)


def _reorder(home: Path) -> None:
    rows = _rows(home)
    rows[0], rows[1] = rows[1], rows[0]
    _write(home, rows)


def _cut_last_line_in_half(home: Path) -> None:
    path = home / "audit" / "audit.jsonl"
    data = path.read_bytes()
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: start + (len(data) - start) // 2])


def _drop_last_entry(home: Path) -> None:
    _write(home, _rows(home)[:-1])


def _forge_last_entry(home: Path) -> None:
    rows = _rows(home)
    entry = json.loads(rows[-1])
    entry["payload"]["subject"]["serial"] = "XX-0000"
    entry["payload"]["sources"] = []
    entry["hash"] = entry_hash(entry)
    rows[-1] = canonical(entry) + "\n"
    _write(home, rows)


@pytest.mark.parametrize(
    ("tamper", "named", "words"),
    [
        (_edit_field, "A-0000002", "altered"),
        (_delete_entry, "A-0000004", "A-0000003 is missing"),
        (_reorder, "A-0000002", "sequence 2 where 1 was expected"),
        (_cut_last_line_in_half, "A-0000004", "truncated"),
        (_drop_last_entry, "A-0000004", "removed from the end"),
        (_forge_last_entry, "A-0000004", "head anchor"),
    ],
)
def test_verify_names_the_first_broken_entry(home: Path, sdi_env: dict[str, str], tamper, named: str, words: str) -> None:
    tamper(home)
    broken = sdi(["audit", "verify"], home, sdi_env)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"BROKEN at {named}" in broken.stdout and words in broken.stdout


def test_export_and_verify_the_bundle_elsewhere(home: Path, tmp_path: Path, sdi_env: dict[str, str]) -> None:
    bundle = tmp_path / "bundle"
    exported = sdi(["audit", "export", "--out", str(bundle)], home, sdi_env)
    assert exported.returncode == 0, exported.stderr
    assert "exported 4 entries and 3 cited source texts" in exported.stdout
    assert AuditLog(home).list(limit=1)[0]["kind"] == "audit_export"
    elsewhere = tmp_path / "reviewer-machine"  # no SDI home, no machine file
    checked = sdi(["audit", "verify", "--bundle", str(bundle)], elsewhere, sdi_env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "intact: 4 entries" in checked.stdout and "4 cited source texts match" in checked.stdout
    assert not elsewhere.exists()
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout
    cited = next(p for p in (bundle / "sources").iterdir() if b"4471-220" in p.read_bytes())
    cited.write_text(cited.read_text().replace("2.1 mm/s", "1.1 mm/s"))
    broken = sdi(["audit", "verify", "--bundle", str(bundle)], elsewhere, sdi_env)
    assert broken.returncode == 1 and f"PROBLEM sources/{cited.name}: sha256 differs from the manifest" in broken.stdout
    assert "does not hash to its name" in broken.stdout
    again = sdi(["audit", "export", "--out", str(bundle)], home, sdi_env)
    assert again.returncode == 2 and "not an empty folder" in again.stderr


def test_repair_command_after_a_torn_append(home: Path, sdi_env: dict[str, str]) -> None:
    fragment = b'{"hash":"9f","id":"A-0000005","ki'
    with (home / "audit" / "audit.jsonl").open("ab") as handle:
        handle.write(fragment)
    torn = sdi(["audit", "verify"], home, sdi_env)
    assert torn.returncode == 1 and "BROKEN at A-0000005" in torn.stdout and "truncated" in torn.stdout
    repaired = sdi(["audit", "repair"], home, sdi_env)
    assert repaired.returncode == 0 and repaired.stdout.startswith(f"A-0000005 repair: {len(fragment)} torn bytes after A-0000004")
    assert sdi(["audit", "verify"], home, sdi_env).returncode == 0
    assert "nothing to repair" in sdi(["audit", "repair"], home, sdi_env).stdout
    _drop_last_entry(home)
    refused = sdi(["audit", "repair"], home, sdi_env)
    assert refused.returncode == 2 and "is damaged" in refused.stderr and "sdi audit verify" in refused.stderr
