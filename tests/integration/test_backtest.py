"""`sdi backtest` (issue 12): numbers recomputed by hand on a tiny fleet, alerts equal to `detect` at the same
as-of date, no future data (moving or deleting records after a date changes none of its alerts), CLI errors."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from connectors.ingest import ingest
from sdi.demo.generator import generate
from sdi.models import ENTITIES
from sdi.store import MachineFile, stored_table
from sdi.triggers.backtest import ANY_RULE, Spec, alerts_on, over_dates, replay, run_backtest
from sdi.triggers.engine import detect
from sdi.triggers.rules import load_rules
from tests.contracts.rule_cases import write_case

# Five weekly dates 03-01 .. 03-29, window 14 days, data as of 04-30: every date is scored (03-29 + 14 <= 04-30).
SPEC = Spec(date(2026, 3, 1), date(2026, 3, 29), step=7, window=14, kinds=("failure",))
DATA_AS_OF = "2026-04-30"


def _event(eid: str, serial: str, day: str, kind: str, code: str, severity: str) -> dict[str, Any]:
    return {"event_id": eid, "serial": serial, "timestamp": f"2026-{day} 10:00:00", "kind": kind, "code": code,
            "severity": severity}


# M1: error E-1 three times on 02-26..28, so error_pattern (>= 3 in 30 days) fires on 03-01, 03-08, 03-15, 03-22
#     (on 03-29 the window starts 02-28: one left). Failure F1 on 03-12.
# M2: a critical alarm on 03-20, so error_pattern fires on 03-22 and 03-29. Failure F2 on 03-25.
# M3: no alert. Failure F3 on 03-05; F3B on 04-25, after the last scored window (03-29 + 14 = 04-12): not scored.
# M4: a maintenance contract ends 04-20, so contract_renewal (< 90 days) fires on all five dates. F4E on 02-25 is
#     before the period; F4 on 03-29 at 10:00 is in the windows of 03-15 and 03-22, not of 03-29 (that date sees it).
# M5: decommissioned, never in the base; its failure F5 counts nowhere.
# Failures have severity "high" (not critical) and their own codes, so they fire nothing themselves.
ROWS: dict[str, list[dict[str, Any]]] = {
    "machine": [{"serial": s, "model": "TL", "lifecycle_status": "decommissioned" if s == "M5" else "active"}
                for s in ("M1", "M2", "M3", "M4", "M5")],
    "contract": [{"contract_id": "K4", "serial": "M4", "type": "maintenance", "start_date": "2025-04-21",
                  "end_date": "2026-04-20"}],
    "event": [_event("E1", "M1", "02-26", "error", "E-1", "warning"),
              _event("E2", "M1", "02-27", "error", "E-1", "warning"),
              _event("E3", "M1", "02-28", "error", "E-1", "warning"),
              _event("F1", "M1", "03-12", "failure", "F-1", "high"),
              _event("C2", "M2", "03-20", "alarm", "A-9", "critical"),
              _event("F2", "M2", "03-25", "failure", "F-2", "high"),
              _event("F3", "M3", "03-05", "failure", "F-3", "high"),
              _event("F3B", "M3", "04-25", "failure", "F-4", "high"),
              _event("F4E", "M4", "02-25", "failure", "F-5", "high"),
              _event("F4", "M4", "03-29", "failure", "F-6", "high"),
              _event("F5", "M5", "03-10", "failure", "F-7", "high")],
}


@pytest.fixture()
def fleet(tmp_path: Path) -> Iterator[MachineFile]:
    """The hand-built fleet above, imported through a mapping whose as_of is the data's end."""
    mapping = write_case(tmp_path / "exports", ROWS)
    mapping.write_text(f"as_of: {DATA_AS_OF}\n" + mapping.read_text(encoding="utf-8"), encoding="utf-8")
    with MachineFile(tmp_path / "home" / "machine-file.duckdb") as db:
        assert ingest(db, mapping).to_dict()["totals"]["rows_rejected"] == 0
        yield db


def _scores(db: MachineFile, spec: Spec = SPEC) -> dict[str, Any]:
    return {r["rule_id"]: r for r in run_backtest(db, load_rules(), spec).to_dict()["rules"]}


def test_numbers_recomputed_by_hand(fleet: MachineFile) -> None:
    out = run_backtest(fleet, load_rules(), SPEC).to_dict()
    # 4 machines in service x 5 dates = 20 pairs. Followed by a failure within 14 days: M1 on 03-01 and 03-08 (F1),
    # M2 on 03-15 and 03-22 (F2), M3 on 03-01 (F3), M4 on 03-15 and 03-22 (F4) = 7 -> base rate 7 / 20 = 0.35.
    assert (out["dates"], out["dates_scored"], out["machines"], out["pairs"], out["pairs_followed"]) == (5, 5, 4, 20, 7)
    assert out["base_rate"] == 0.35
    # Scored failures: F1, F2, F3, F4 (F3B after the last window, F4E before the first, F5 off the base). In the
    # period (03-01, 04-12]: those four plus F5.
    assert (out["targets_scored"], out["targets"]) == (4, 5)
    rules = {r["rule_id"]: r for r in out["rules"]}
    # error_pattern: alerts M1 x4 + M2 x2 = 6; hits M1 03-01, 03-08 and M2 03-22 = 3 -> precision 0.5, lift 0.5 / 0.35.
    # It caught F1 (last alert 03-08, its run began 03-01: lead 11 days) and F2 (run began 03-22: 3 days) of 4.
    assert rules["error_pattern"] == {"rule_id": "error_pattern", "alerts": 6, "hits": 3, "precision": 0.5,
                                      "recall": 0.5, "lift": 1.4286, "caught": 2, "median_lead_days": 7.0}
    # contract_renewal: M4 on all 5 dates; hits 03-15 and 03-22 (F4) -> 0.4, lift 0.4 / 0.35; caught F4 with the run
    # that began 03-01: lead 28 days; recall 1 / 4.
    assert rules["contract_renewal"] == {"rule_id": "contract_renewal", "alerts": 5, "hits": 2, "precision": 0.4,
                                         "recall": 0.25, "lift": 1.1429, "caught": 1, "median_lead_days": 28.0}
    # Any rule: 4 + 2 + 5 = 11 machine-dates, 5 hits; F1, F2, F4 caught (leads 11, 3, 28 -> median 11).
    assert rules[ANY_RULE] == {"rule_id": ANY_RULE, "alerts": 11, "hits": 5, "precision": 0.4545, "recall": 0.75,
                               "lift": 1.2987, "caught": 3, "median_lead_days": 11.0}
    quiet = [r for r in out["rules"] if r["rule_id"] not in ("error_pattern", "contract_renewal", ANY_RULE)]
    assert quiet and all(r["alerts"] == 0 and r["precision"] is None and r["recall"] == 0 for r in quiet)


def test_target_won(fleet: MachineFile) -> None:
    # One opportunity on M1 recorded as won on 03-10: pairs followed are M1 on 03-01 and 03-08 -> base rate 2 / 20.
    fleet.execute("INSERT INTO opportunities (id, serial, campaign, status) VALUES ('O1', 'M1', 'x', 'won')")
    fleet.execute("INSERT INTO outcomes (id, opportunity_id, result, recorded_at) VALUES "
                  "(1, 'O1', 'won', TIMESTAMP '2026-03-10 15:00:00'), "
                  "(2, 'O1', 'lost', TIMESTAMP '2026-03-20 15:00:00')")
    out = run_backtest(fleet, load_rules(), Spec(SPEC.start, SPEC.end, 7, 14, target="won")).to_dict()
    assert (out["base_rate"], out["targets_scored"]) == (0.1, 1)
    rules = {r["rule_id"]: r for r in out["rules"]}
    # error_pattern's 6 alerts: 03-01 and 03-08 on M1 hit -> 1/3, lift 3.33; lead from its run's start 03-01: 9 days.
    assert rules["error_pattern"] == {"rule_id": "error_pattern", "alerts": 6, "hits": 2, "precision": 0.3333,
                                      "recall": 1.0, "lift": 3.3333, "caught": 1, "median_lead_days": 9.0}
    assert rules["contract_renewal"]["hits"] == 0 and rules["contract_renewal"]["lift"] == 0.0


def test_dates_past_the_data_are_left_out(fleet: MachineFile) -> None:
    # Data ends 04-30: with a 14-day window the last scorable date is 04-16, so 04-19 and 04-26 are left out and
    # F3B (04-25) is never counted as a miss.
    out = run_backtest(fleet, load_rules(), Spec(date(2026, 3, 1), date(2026, 4, 26), 7, 14)).to_dict()
    assert (out["dates"], out["dates_scored"]) == (9, 7)
    later = run_backtest(fleet, load_rules(), Spec(date(2026, 3, 1), date(2026, 4, 16), 7, 14)).to_dict()
    assert later["rules"] == out["rules"] and later["targets_scored"] == out["targets_scored"]


def test_a_future_record_changes_no_alert(fleet: MachineFile) -> None:
    rules = load_rules()
    replay(fleet, rules, SPEC.dates())
    before = {day: alerts_on(fleet, day) for day in SPEC.dates()}
    # After the last date (03-29): move a failure, add a repair naming E-1 (it would resolve M1's pattern), a critical
    # event on M3, and a renewal of K4 (it would resolve M4's renewal).
    fleet.execute("UPDATE events SET timestamp = TIMESTAMP '2026-03-30 08:00:00' WHERE event_id = 'F3B'")
    fleet.execute("INSERT INTO events (event_id, serial, timestamp, kind, code, severity) VALUES "
                  "('X1', 'M3', TIMESTAMP '2026-04-02 09:00:00', 'failure', 'F-9', 'critical')")
    fleet.execute("INSERT INTO service_records (record_id, serial, date, type, text) VALUES "
                  "('S1', 'M1', DATE '2026-03-31', 'repair', 'Fixed E-1')")
    fleet.execute("INSERT INTO contracts (contract_id, serial, type, start_date, end_date) VALUES "
                  "('K5', 'M4', 'maintenance', DATE '2026-04-01', DATE '2027-04-20')")
    replay(fleet, rules, SPEC.dates())
    assert {day: alerts_on(fleet, day) for day in SPEC.dates()} == before
    assert before[date(2026, 3, 22)] == {("error_pattern", "M1"), ("error_pattern", "M2"), ("contract_renewal", "M4")}


def test_missing_target_and_bad_spec_are_refused(fleet: MachineFile) -> None:
    from sdi.errors import SdiError

    with pytest.raises(SdiError, match="no events of kind breakdown"):
        run_backtest(fleet, load_rules(), Spec(SPEC.start, SPEC.end, kinds=("breakdown",)))
    with pytest.raises(SdiError, match="no opportunity has been recorded as won"):
        run_backtest(fleet, load_rules(), Spec(SPEC.start, SPEC.end, target="won"))
    with pytest.raises(SdiError, match="window"):
        run_backtest(fleet, load_rules(), Spec(SPEC.start, SPEC.end, window=0))
    with pytest.raises(SdiError, match="after --to"):
        run_backtest(fleet, load_rules(), Spec(SPEC.end, SPEC.start))
    with pytest.raises(SdiError, match="more than 400 as-of dates"):
        run_backtest(fleet, load_rules(), Spec(date(2020, 1, 1), date(2026, 3, 1), step=1))
    with pytest.raises(SdiError, match="full 14-day window"):
        run_backtest(fleet, load_rules(), Spec(date(2026, 4, 20), date(2026, 4, 27)))


# ---------------------------------------------------------------- a small generated base: alerts == detect


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MachineFile, date]]:
    folder = tmp_path_factory.mktemp("btdemo")
    summary = generate(folder / "data", machines=150, seed=5)
    db = MachineFile(folder / "home" / "machine-file.duckdb")
    ingest(db, folder / "data" / "mapping.yaml")
    yield db, date.fromisoformat(summary["as_of"])
    db.close()


def test_alerts_equal_detect_on_each_date(demo: tuple[MachineFile, date]) -> None:
    db, as_of = demo
    rules = load_rules()
    dates = [as_of - timedelta(days=n) for n in (70, 35, 0)]
    replay(db, rules, dates)
    seen: set[str] = set()
    for day in dates:
        fired = {(t.rule_id, t.serial) for t in detect(db, rules, day).triggers}
        assert fired and alerts_on(db, day) == fired, day
        seen |= {rule_id for rule_id, _ in fired}
    assert len(seen) >= 6, seen  # most rules take part, so the comparison means something


def test_a_rule_using_the_date_in_python_runs_per_date(demo: tuple[MachineFile, date],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule whose SQL uses the date other than as a literal cannot share one query over all dates: it is replayed
    date by date, with the same alerts as `detect`."""
    db, as_of = demo
    rules = load_rules()
    plain = next(r for r in rules.registered if r.rule_id == "error_pattern")
    rule = dataclasses.replace(plain, sql=lambda rf, day: f"SELECT * FROM ({plain.sql(rf, day)}) "
                                                             f"WHERE '{day.isoformat()}' <> ''")
    monkeypatch.setattr(rules, "_registered", tuple(rule if r is plain else r for r in rules.registered))
    dates = [as_of - timedelta(days=n) for n in (35, 0)]
    assert over_dates(lambda day: rule.sql(rules, day)) is None
    replay(db, rules, dates)
    for day in dates:
        fired = {(t.rule_id, t.serial) for t in detect(db, rules, day).triggers}
        assert any(r == "error_pattern" for r, _ in fired) and alerts_on(db, day) == fired, day


class _Undo(Exception):
    """Raised to roll a test's changes back."""


def test_deleting_everything_after_a_date_changes_none_of_its_alerts(demo: tuple[MachineFile, date]) -> None:
    db, as_of = demo
    cut = as_of - timedelta(days=60)
    dates = [cut - timedelta(days=14), cut]
    rules = load_rules()
    replay(db, rules, dates)
    before = {day: alerts_on(db, day) for day in dates}
    assert all(before.values())
    end = f"TIMESTAMP '{cut + timedelta(days=1)}'"
    after: dict[date, set[tuple[str, str]]] = {}
    with pytest.raises(_Undo), db.transaction():  # the deletions are rolled back for the other tests
        for table, column in (("events", "timestamp"), (stored_table(ENTITIES["telemetry"]), "timestamp"), ("service_records", "date"),
                              ("parts_orders", "date"), ("contracts", "start_date")):
            gone = db.scalar(f"SELECT count(*) FROM {table} WHERE {column} >= {end}")
            db.execute(f"DELETE FROM {table} WHERE {column} >= {end}")
            assert gone or table == "contracts", table
        replay(db, rules, dates)
        after = {day: alerts_on(db, day) for day in dates}
        raise _Undo
    assert after == before


# ---------------------------------------------------------------- the command


SDI = str(Path(sys.executable).parent / "sdi")


def _sdi(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SDI_CONFIG"}
    return subprocess.run([SDI, *args], capture_output=True, text=True, env={**env, "SDI_HOME": str(home)}, timeout=120)


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    mapping = write_case(tmp_path / "exports", ROWS)
    mapping.write_text(f"as_of: {DATA_AS_OF}\n" + mapping.read_text(encoding="utf-8"), encoding="utf-8")
    home = tmp_path / "sdi-home"
    assert _sdi(home, "ingest", str(mapping)).returncode == 0
    return home


def test_cli_table_json_and_errors(home: Path) -> None:
    args = ["backtest", "--target-kind", "failure", "--window", "14", "--from", "2026-03-01", "--to", "2026-03-29"]
    text = _sdi(home, *args)
    assert text.returncode == 0, text.stderr
    assert "error_pattern" in text.stdout and "50.00%" in text.stdout and "totals: 5 dates, 4 machines" in text.stdout
    data = json.loads(_sdi(home, *args, "--json").stdout)
    assert data["base_rate"] == 0.35 and data["targets_scored"] == 4
    for bad, message in ((["--from", "2026-13-01"], "--from '2026-13-01' is not a date"),
                         (["--from", "2026-04-01", "--to", "2026-03-01"], "is after --to"),
                         (["--window", "0"], "--window must be 1 to 3650 days"),
                         (["--target-kind", "breakdown"], "no events of kind breakdown")):
        run = _sdi(home, "backtest", "--from", "2026-03-01", "--to", "2026-03-29", *bad)
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_admin_api(home: Path) -> None:
    from fastapi.testclient import TestClient

    from sdi.access.users import add_user
    from sdi.api.app import create_app
    from tests.integration.api_base import settings_for

    settings = settings_for(home, llm="template")
    with MachineFile(settings.db_path) as db:
        _, token = add_user(db, "Ada", "admin")
        with TestClient(create_app(settings, db)) as client:
            auth = {"Authorization": f"Bearer {token}"}
            ok = client.get("/api/admin/backtest?target_kind=failure&window=14&from=2026-03-01&to=2026-03-29&step=7",
                            headers=auth)
            assert ok.status_code == 200, ok.text
            body = ok.json()
            assert body["base_rate"] == 0.35 and body["rules"][-1]["rule_id"] == ANY_RULE
            bad = client.get("/api/admin/backtest?window=0", headers=auth)
            assert bad.status_code == 400 and "window" in bad.text


def test_admin_page_draws_the_chart(home: Path, browser: Any) -> None:
    from playwright.sync_api import expect

    from sdi.access.users import add_user
    from sdi.api.app import create_app
    from tests.integration.api_base import LiveServer, settings_for

    settings = settings_for(home, llm="template")
    db = MachineFile(settings.db_path)
    _, token = add_user(db, "Ada", "admin")
    server = LiveServer(create_app(settings, db)).start(wait_for_model=False)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/ui/admin.html?token={token}")
        page.fill("#backtest-form input[name=from]", "2026-03-01")
        page.fill("#backtest-form input[name=to]", "2026-03-29")
        page.click("#backtest-form button[type=submit]")
        expect(page.locator("#backtest-chart")).to_be_visible()
        # error pattern, contract renewal and any rule fired: three bars; every rule in the table
        assert page.locator("#backtest-chart rect").count() == 3 and page.locator("#backtest-chart line").count() == 1
        expect(page.locator("#backtest-table tbody tr").first).to_contain_text("contract renewal")
        assert "base rate 35.00%" in page.locator("#backtest-result").inner_text()
        assert not errors, errors
    finally:
        server.stop()
        db.close()
