"""CRM loop (issue 13): `sdi export crm` writes Salesforce Bulk API 2.0 CSV (header, dates, quoting, LF, stages,
idempotent, --since, audited) and `sdi outcomes import` records a CRM's closed opportunities (audited, idempotent,
bad rows reported with file, line and reason)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from sdi.audit.log import AuditLog
from sdi.config import CRM_STAGES
from sdi.loop.crm import OPPORTUNITY_FIELDS, TASK_FIELDS
from sdi.store import MachineFile

SDI = str(Path(sys.executable).parent / "sdi")
DATA = Path(__file__).parent.parent / "data" / "crm"
MAPPING = DATA / "salesforce_closed.yaml"
MACHINES, SEED = 150, 11


def _sdi(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SDI_CONFIG", "SDI_CRM")}
    return subprocess.run([SDI, *args], capture_output=True, text=True, timeout=120,
                          env={**base, "SDI_HOME": str(home), **(env or {})})


def _export(home: Path, out: Path, *args: str) -> dict[str, Any]:
    done = _sdi(home, "export", "crm", "--format", "salesforce", "--out", str(out), "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo base with triggers run (opportunities stored); copied per test."""
    from connectors.ingest import ingest
    from sdi.demo import generator as demo
    from sdi.demo.run import generate_demo_files
    from sdi.progress import Progress
    from sdi.triggers.leads import create_lead
    from sdi.triggers.service import run_triggers
    from sdi.access.users import User

    home = tmp_path_factory.mktemp("crm-base")
    mapping = generate_demo_files(home / "demo-data", MACHINES, SEED, demo.DEFAULT_AS_OF, Progress(quiet=True))
    with MachineFile(home / "machine-file.duckdb") as db:
        ingest(db, mapping)
        run_triggers(db, home, demo.DEFAULT_AS_OF, store=True)
        serial = db.scalar("SELECT min(serial) FROM machines")
        create_lead(db, home, User("Tess Tech", "technician"), serial, "hydraulic hose weeping, customer asks for a quote",
                    "new hose set")
    return home


@pytest.fixture()
def home(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "home"
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("demo-data"))
    return target


def _db_ids(home: Path) -> tuple[set[str], set[str]]:
    with MachineFile(home / "machine-file.duckdb") as db:
        sales = {r[0] for r in db.sql("SELECT id FROM opportunities WHERE channel <> 'scheduling'")}
        scheduling = {r[0] for r in db.sql("SELECT id FROM opportunities WHERE channel = 'scheduling'")}
    return sales, scheduling


def test_export_writes_salesforce_csv(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "crm"
    summary = _export(home, out)
    raw = (out / "Opportunity.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    raw.decode("utf-8")
    assert raw.split(b"\n", 1)[0].decode() == ",".join(OPPORTUNITY_FIELDS)
    assert "Account.SDI_Account_Id__c" in OPPORTUNITY_FIELDS and "Opportunity:What.SDI_Opportunity_Id__c" in TASK_FIELDS
    opps = _rows(out / "Opportunity.csv")
    ids = [o["SDI_Opportunity_Id__c"] for o in opps]
    sales, scheduling = _db_ids(home)
    assert scheduling, "the demo base should have scheduling tasks to leave out"
    assert len(ids) == len(set(ids)) and set(ids) == sales  # every sales opportunity exactly once, no scheduling
    assert {o["StageName"] for o in opps} == {"Prospecting"}  # a fresh base: everything open
    for o in opps:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", o["CloseDate"]), o
        assert o["Amount"] == "" or re.fullmatch(r"\d+\.\d{2}", o["Amount"]), o
        assert o["Account.SDI_Account_Id__c"].startswith("CU-")
        assert o["LeadSource"] in ("SDI", "SDI technician lead") and " – " in o["Name"]
        assert f"/ui/opportunity.html?id={o['SDI_Opportunity_Id__c']}" in o["Description"]
    assert any(o["Amount"] for o in opps)
    assert [o["Name"].split(" – ")[0] for o in opps if o["LeadSource"] == "SDI technician lead"] == ["technician lead"]
    assert b'"' in raw and any("\n" in o["Description"] for o in opps)  # multi-line fields survive, quoted
    tasks = _rows(out / "Task.csv")
    assert {t["Opportunity:What.SDI_Opportunity_Id__c"] for t in tasks} == sales
    assert len({t["SDI_Task_Id__c"] for t in tasks}) == len(tasks)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", t["ActivityDate"]) and t["Status"] == "Not Started" for t in tasks)
    assert {t["Priority"] for t in tasks} <= {"High", "Normal", "Low"}
    twin = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert twin["opportunities"] == opps and twin["tasks"] == tasks
    entry = AuditLog(home).list("export_crm")[-1]
    hashes = {f["file"]: f["sha256"] for f in entry["payload"]["files"]}
    assert hashes == {f["file"]: f["sha256"] for f in summary["files"]}
    for name, digest in hashes.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_reexport_is_byte_identical_and_since_limits(home: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _export(home, first)
    _export(home, second)
    _export(home, first)
    for name in ("Opportunity.csv", "Task.csv", "export.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    sales, _ = _db_ids(home)
    with MachineFile(home / "machine-file.duckdb") as db:
        as_of = db.scalar("SELECT max(last_seen) FROM opportunities WHERE trigger_state = 'active'")
        latest = db.scalar("SELECT max(last_seen) FROM opportunities")  # the lead: reported today
        old = [r[0] for r in db.sql("SELECT id FROM opportunities WHERE trigger_state = 'active' AND channel <> "
                                    "'scheduling' ORDER BY id")][: len(sales) // 2]
        db.execute("UPDATE opportunities SET first_seen = first_seen - 40, last_seen = last_seen - 40 "
                   f"WHERE id IN ({', '.join('?' * len(old))})", old)
    recent = _export(home, tmp_path / "recent", "--since", (as_of - timedelta(days=1)).isoformat())
    assert {o["SDI_Opportunity_Id__c"] for o in _rows(tmp_path / "recent" / "Opportunity.csv")} == sales - set(old)
    assert recent["opportunities"] == len(sales) - len(old)
    assert _export(home, tmp_path / "none", "--since", (latest + timedelta(days=1)).isoformat())["opportunities"] == 0
    bad = _sdi(home, "export", "crm", "--out", str(tmp_path / "x"), "--since", "yesterday")
    assert bad.returncode != 0 and "--since" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr


def test_stage_mapping_is_configurable_and_complete(home: Path, tmp_path: Path) -> None:
    stages = CRM_STAGES | {"open": "Needs Analysis"}
    done = _sdi(home, "export", "crm", "--out", str(tmp_path / "c"), env={"SDI_CRM": json.dumps({"stages": stages})})
    assert done.returncode == 0, done.stderr
    assert {o["StageName"] for o in _rows(tmp_path / "c" / "Opportunity.csv")} == {"Needs Analysis"}
    partial = {k: v for k, v in CRM_STAGES.items() if k != "open"}
    done = _sdi(home, "export", "crm", "--out", str(tmp_path / "d"), env={"SDI_CRM": json.dumps({"stages": partial})})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "'open'" in done.stderr and "crm.stages" in done.stderr


def _closed_report(export_dir: Path, target: Path) -> dict[str, dict[str, str]]:
    """What a CRM report of the exported opportunities looks like after reps closed three of them."""
    opps = _rows(export_dir / "Opportunity.csv")
    won, lost, partner = opps[0], opps[1], opps[2]
    won.update(StageName="Closed Won", Amount="12,500.00", Discount__c="10%", CloseDate="2026-11-20")
    lost.update(StageName="Closed Lost", Amount="", Loss_Reason__c="price", CloseDate="2026-11-21")
    partner.update(StageName="Lost to Partner", Lost_To_Partner__c="Müller Service GmbH", Loss_Reason__c="local partner")
    fields = [*OPPORTUNITY_FIELDS, "Discount__c", "Lost_To_Partner__c", "Loss_Reason__c"]
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(opps)
    return {"won": won, "lost": lost, "lost_to_partner": partner}


def test_round_trip_records_outcomes_once(home: Path, tmp_path: Path) -> None:
    _export(home, tmp_path / "out")
    closed = _closed_report(tmp_path / "out", tmp_path / "report.csv")
    done = _sdi(home, "outcomes", "import", str(tmp_path / "report.csv"), "--mapping", str(MAPPING), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["recorded"] == 3 and report["rejected"] == [] and report["unchanged"] == 0
    assert report["skipped"] == report["rows"] - 3
    with MachineFile(home / "machine-file.duckdb") as db:
        for result, row in closed.items():
            opp_id = row["SDI_Opportunity_Id__c"]
            assert db.scalar("SELECT status FROM opportunities WHERE id = ?", [opp_id]) == \
                ("won" if result == "won" else "lost")
            stored = db.one("SELECT result, value, discount_pct, partner, reason, recorded_at::DATE FROM outcomes "
                            "WHERE opportunity_id = ?", [opp_id])
            assert stored[0] == result
        won = db.one("SELECT value, discount_pct, currency, recorded_at::DATE FROM outcomes WHERE opportunity_id = ?",
                     [closed["won"]["SDI_Opportunity_Id__c"]])
        assert won == (12500.0, 10.0, "EUR", date(2026, 11, 20))
        count = db.scalar("SELECT count(*) FROM outcomes")
    audited = AuditLog(home).list("outcome")
    assert {e["payload"]["opportunity_id"] for e in audited} == {r["SDI_Opportunity_Id__c"] for r in closed.values()}
    assert all(e["payload"]["source"]["line"] > 1 for e in audited)
    again = _sdi(home, "outcomes", "import", str(tmp_path / "report.csv"), "--mapping", str(MAPPING), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["recorded"] == 0 and json.loads(again.stdout)["unchanged"] == 3
    with MachineFile(home / "machine-file.duckdb") as db:
        assert db.scalar("SELECT count(*) FROM outcomes") == count
    assert len(AuditLog(home).list("outcome")) == 3 and len(AuditLog(home).list("import_outcomes")) == 2
    _export(home, tmp_path / "again")
    back = {o["SDI_Opportunity_Id__c"]: o for o in _rows(tmp_path / "again" / "Opportunity.csv")}
    won_id = closed["won"]["SDI_Opportunity_Id__c"]
    assert (back[won_id]["StageName"], back[won_id]["Amount"], back[won_id]["CloseDate"]) == \
        ("Closed Won", "12500.00", "2026-11-20")
    assert back[closed["lost"]["SDI_Opportunity_Id__c"]]["StageName"] == "Closed Lost"
    assert AuditLog(home).verify().ok


def test_bad_rows_are_reported_and_the_rest_goes_through(home: Path, tmp_path: Path) -> None:
    sales, _ = _db_ids(home)
    known = sorted(sales)[0]
    text = (DATA / "bad_rows.csv").read_text(encoding="utf-8").replace("{known}", known)
    good = sorted(sales)[1]
    target = tmp_path / "bad.csv"
    target.write_text(text + f"{good},Closed Won,900,,,,2026-11-22\n", encoding="utf-8")
    done = _sdi(home, "outcomes", "import", str(target), "--mapping", str(MAPPING))
    assert done.returncode == 0, done.stderr
    expected = {2: "no opportunity OPP-0000000000", 3: "is not a number", 4: "'Negotiation' is not in values.result",
                5: "say why it was lost", 6: "does not match", 7: "discount_pct must be between 0 and 100",
                8: "no external id"}
    for line, reason in expected.items():
        assert re.search(rf"{re.escape(str(target))}:{line}: .*{re.escape(reason)}", done.stdout), (line, done.stdout)
    assert "1 outcomes recorded" in done.stdout and "7 rejected" in done.stdout
    with MachineFile(home / "machine-file.duckdb") as db:
        assert db.scalar("SELECT status FROM opportunities WHERE id = ?", [good]) == "won"
        assert db.scalar("SELECT status FROM opportunities WHERE id = ?", [known]) == "open"
    strict = _sdi(home, "outcomes", "import", str(target), "--mapping", str(MAPPING), "--strict")
    assert strict.returncode == 1 and "0 outcomes recorded" in strict.stdout
    missing = _sdi(home, "outcomes", "import", str(target), "--mapping", str(DATA / "nope.yaml"))
    assert missing.returncode != 0 and "nope.yaml" in missing.stderr + missing.stdout
