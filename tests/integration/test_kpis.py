"""KPIs on a hand-built machine file with known answers: arithmetic, the CLI, the API's scoping, the page in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, expect

from sdi.access.users import User, add_user
from sdi.loop.kpis import compute
from sdi.store import MachineFile
from sdi.triggers.leads import create_lead
from sdi.triggers.outcomes import record_outcome
from tests.contracts.rule_cases import write_case
from tests.integration.api_base import LiveServer, settings_for

AS_OF = date(2026, 6, 30)
PLAN = {"maintenance contract renewal": 12000.0, "end-of-life programme": 5000.0}
RENEWAL, SLA, LEAD = "maintenance contract renewal", "service level agreement offer", "technician lead"
TINA, OTTO = User("Tina Tech", "technician"), User("Otto Tech", "technician")
USERS: dict[str, tuple[Any, ...]] = {
    "admin": ("Ada Admin", "admin", None), "compliance": ("Cora Compliance", "compliance", None),
    "rep_north": ("Rita Rep", "sales_rep", "North"), "rep_south": ("Sam Rep", "sales_rep", "South"),
    "tina": (TINA.name, "technician", None, ["M1", "M2", "M3"]), "otto": (OTTO.name, "technician", None, ["M5"])}
TOKENS: dict[str, str] = {}


def _d(days: int) -> date:
    return AS_OF + timedelta(days=days)


def _contract(cid: str, serial: str, kind: str, start: date, end: date, status: str = "active") -> dict[str, Any]:
    return {"contract_id": cid, "serial": serial, "type": kind, "start_date": start, "end_date": end, "status": status}


def _rows() -> dict[str, list[dict[str, Any]]]:
    """North (C1): M1 maintenance, M2 SLA, M3 warranty only, M4 cancelled, M9 ended 2025, M10 SLA ending on as-of
    (renewed next day), M11 renewal trigger, M13 warranty ending (SLA trigger). South (C2): M5 renewed within 45
    days, M6 renewed too late, M7 decommissioned, M8 installed after as-of, M12 renewal trigger."""
    machines = [{"serial": f"M{i}", "model": "TL", "customer_id": "C1" if i in (1, 2, 3, 4, 9, 10, 11, 13) else "C2",
                 "install_date": date(2020, 1, 1), "lifecycle_status": "active"} for i in range(1, 14)]
    machines[6]["lifecycle_status"] = "decommissioned"
    machines[7]["install_date"] = _d(32)
    contracts = [
        _contract("K1", "M1", "maintenance", date(2026, 1, 1), date(2026, 12, 31)),
        _contract("K2", "M2", "sla", date(2025, 7, 1), date(2026, 12, 31)),
        _contract("K3", "M3", "warranty", date(2025, 1, 1), date(2027, 12, 31)),
        _contract("K4", "M4", "maintenance", date(2026, 1, 1), date(2026, 12, 31), "cancelled"),
        _contract("K5", "M5", "maintenance", date(2025, 4, 1), date(2026, 3, 31), "expired"),
        _contract("K6", "M5", "maintenance", date(2026, 5, 15), date(2027, 5, 14)),
        _contract("K7", "M6", "maintenance", date(2025, 3, 1), date(2026, 2, 28), "expired"),
        _contract("K8", "M6", "maintenance", date(2026, 7, 15), date(2027, 7, 14)),
        _contract("K9", "M7", "maintenance", date(2026, 1, 1), date(2026, 12, 31)),
        _contract("K10", "M9", "maintenance", date(2024, 5, 2), date(2025, 5, 1), "expired"),
        _contract("K11", "M10", "sla", date(2025, 7, 1), AS_OF),
        _contract("K12", "M10", "maintenance", _d(1), _d(366)),
        _contract("K13", "M11", "maintenance", date(2025, 8, 1), date(2026, 8, 31)),
        _contract("K14", "M12", "maintenance", date(2025, 9, 16), date(2026, 9, 15)),
        _contract("K15", "M13", "warranty", date(2024, 8, 16), date(2026, 8, 15)),
    ]
    return {
        "customer": [{"customer_id": "C1", "name": "Nord GmbH", "territory": "North", "account_manager": "Rita Rep"},
                     {"customer_id": "C2", "name": "Süd AG", "territory": "South", "account_manager": "Sam Rep"}],
        "machine": machines, "contract": contracts,
        "service_offer": [{"offer_id": "O-REN", "name": "Renewal", "price": 5000, "currency": "EUR", "triggers": "contract_renewal"},
                          {"offer_id": "O-SLA", "name": "SLA", "price": 3000, "currency": "EUR", "triggers": "warranty_sla"},
                          {"offer_id": "O-KIT", "name": "Wear kit", "price": 800, "currency": "EUR", "triggers": "none"},
                          {"offer_id": "O-PRT", "name": "Parts check", "price": 200, "currency": "EUR",
                           "triggers": "parts_reminder"}],
    }


def _opp(db: MachineFile, serial: str) -> str:
    return db.scalar("SELECT id FROM opportunities WHERE serial = ? AND campaign <> ?", [serial, LEAD])


def _lead(db: MachineFile, home: Path, who: User, serial: str, hours: float, offer: str | None) -> str:
    """A lead through the real path, then reported on 1 May 10:00 and first acted on `hours` later."""
    lead = create_lead(db, home, who, serial, "hose weeping at cylinder 2", "wants a quote", offer)
    reported = datetime(2026, 5, 1, 10, 0)
    db.execute("UPDATE leads SET reported_at = ?, first_action_at = ?, first_action = 'status' WHERE id = ?",
               [reported, reported + timedelta(hours=hours), lead["id"]])
    db.execute("UPDATE opportunities SET first_seen = ?, last_seen = ? WHERE id = ?",
               [reported.date(), reported.date(), lead["opportunity_id"]])
    return lead["opportunity_id"]


def _won(db: MachineFile, opp: str, value: float, day: date = date(2026, 6, 1)) -> None:
    record_outcome(db, opp, "won", "Rita Rep", value=value, currency="EUR", recorded_at=datetime.combine(day, datetime.min.time()))


def _lost(db: MachineFile, opp: str, partner: str | None = None, day: date = date(2026, 6, 1)) -> None:
    record_outcome(db, opp, "lost_to_partner" if partner else "lost", "Rita Rep", partner=partner, reason="price",
                   recorded_at=datetime.combine(day, datetime.min.time()))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built base: imported, triggers run at as-of, four leads, outcomes recorded through the real code."""
    from connectors.ingest import ingest
    from sdi.triggers.service import run_triggers

    root = tmp_path_factory.mktemp("kpis")
    mapping = write_case(root / "data", _rows())
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8")) | {"as_of": AS_OF.isoformat()}
    mapping.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    (root / "config.yaml").write_text(yaml.safe_dump({"kpi_plan": PLAN}), encoding="utf-8")
    with MachineFile(root / "machine-file.duckdb") as db:
        ingest(db, mapping)
        run_triggers(db, root, AS_OF, store=True)
        l1 = _lead(db, root, TINA, "M1", 0.5, "O-KIT")  # < 1 h, won
        l2 = _lead(db, root, TINA, "M2", 2, None)  # 1–4 h, lost (routed to the rep: no offer)
        _lead(db, root, TINA, "M3", 30, "O-KIT")  # 1–3 d, still open (800 in the pipeline)
        l4 = _lead(db, root, OTTO, "M5", 0.2, "O-KIT")  # < 1 h, won
        _won(db, _opp(db, "M11"), 6000)
        _won(db, _opp(db, "M12"), 4000, date(2026, 5, 1))
        _lost(db, _opp(db, "M12"))  # the latest outcome counts: lost
        _lost(db, _opp(db, "M13"), partner="Müller Service")
        _won(db, _opp(db, "M9"), 99999, date(2025, 1, 1))  # before the 12 months: out of win rate and revenue
        _won(db, l1, 900)
        _lost(db, l2)
        _won(db, l4, 700)
        for key, args in USERS.items():
            TOKENS[key] = add_user(db, *args[:3], serials=args[3] if len(args) > 3 else ())[1]
    return root


def _kpis(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["id"]: k for k in result["kpis"]}


def _by(kpi: dict[str, Any], dim: str) -> dict[str, tuple[Any, Any]]:
    return {e["key"]: (e["numerator"], e["denominator"]) for e in kpi["by"][dim]}


def test_kpi_arithmetic_on_known_answers(home: Path) -> None:
    with MachineFile(home / "machine-file.duckdb") as db:
        k = _kpis(compute(db, AS_OF, plan=PLAN))
    for kpi in k.values():
        assert set(kpi) >= {"name", "value", "unit", "numerator", "denominator", "definition", "by"} and kpi["definition"]
    # 11 machines in service (M7 decommissioned, M8 installed after as-of); covered: M1, M2, M5 (K6), M10 (ends on
    # as-of), M11, M12 — not M3 (warranty), M4 (cancelled), M6 (renewal starts later), M9, M13
    cov = k["coverage_rate"]
    assert (cov["numerator"], cov["denominator"], cov["value"]) == (6, 11, 0.5455)
    assert _by(cov, "territory") == {"North": (4, 8), "South": (2, 3)}
    # ended in the 12 months: K5 (renewed 45 days later), K7 (renewal 137 days later: too late), K11 (renewed next day)
    ren = k["renewal_rate"]
    assert (ren["numerator"], ren["denominator"], ren["value"]) == (2, 3, 0.6667)
    assert _by(ren, "territory") == {"North": (1, 1), "South": (1, 2)}
    assert _by(ren, "contract_type") == {"maintenance": (1, 2), "sla": (1, 1)}
    win = k["win_rate"]
    assert (win["numerator"], win["denominator"], win["value"]) == (3, 6, 0.5)
    assert _by(win, "campaign") == {RENEWAL: (1, 2), SLA: (0, 1), LEAD: (2, 3)}
    assert _by(win, "rule") == {"contract_renewal": (1, 2), "warranty_sla": (0, 1), "technician_lead": (2, 3)}
    assert _by(win, "territory") == {"North": (2, 4), "South": (1, 2)}
    # open: parts reminders on M1–M6, M10 (M9's was won) at 200 and the M3 lead's wear kit at 800
    pipe = k["pipeline_value"]
    assert (pipe["value"], pipe["denominator"], pipe["unit"]) == (2200, 8, "EUR")
    assert {e["key"]: (e["value"], e["open"]) for e in pipe["by"]["campaign"]} == {
        "wear parts reminder / safety check": (1400, 7), LEAD: (800, 1)}
    turn = k["lead_turnaround"]
    assert (turn["numerator"], turn["denominator"], turn["value"]) == (2, 4, 0.5)
    assert [(b["key"], b["leads"], b["closed"], b["won"], b["win_rate"]) for b in turn["by"]["bucket"]] == [
        ("< 1 h", 2, 2, 2, 1.0), ("1–4 h", 1, 1, 0, 0.0), ("4–24 h", 0, 0, 0, None), ("1–3 d", 1, 0, 0, None),
        ("> 3 d", 0, 0, 0, None), ("not acted on", 0, 0, 0, None)]
    assert (k["revenue"]["value"], k["revenue"]["unit"]) == (7600, "EUR")
    assert (k["lead_revenue"]["numerator"], k["lead_revenue"]["denominator"]) == (1600, 7600)
    plan = k["plan_vs_actual"]
    assert (plan["numerator"], plan["denominator"], plan["value"]) == (6000, 17000, 0.3529)
    assert {e["key"]: (e["plan"], e["actual"], e["value"], e["status"]) for e in plan["by"]["campaign"]} == {
        RENEWAL: (12000, 6000, 0.5, None), "end-of-life programme": (5000, 0, 0.0, None),
        LEAD: (None, 1600, None, "no plan set")}


def _sdi(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SDI_HOME": str(home), "SDI_CONFIG": str(home / "config.yaml")}
    return subprocess.run([sys.executable, "-m", "sdi.cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_cli_text_and_json(home: Path) -> None:
    text = _sdi(home, "kpis", "--as-of", AS_OF.isoformat())
    assert text.returncode == 0, text.stderr
    assert "Service contract coverage: 54.5 % (6 / 11)" in text.stdout
    assert "Win rate: 50.0 % (3 / 6)" in text.stdout
    assert text.stdout.count("Definition:") == 8
    assert "< 1 h" in text.stdout and "no plan set" in text.stdout
    out = _sdi(home, "kpis", "--json")  # default as-of: the data's
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    with MachineFile(home / "machine-file.duckdb") as db:
        assert data == compute(db, AS_OF, plan=PLAN)
    bad = _sdi(home, "kpis", "--as-of", "30.06.2026")
    assert bad.returncode != 0 and "--as-of" in bad.stderr and "Traceback" not in bad.stderr


@pytest.fixture(scope="module")
def server(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app on a copy of the base (the CLI tests open the original), the template LLM: no model to wait for."""
    from sdi.api.app import create_app
    from sdi.config import load_settings

    copy = tmp_path_factory.mktemp("kpis-live")
    shutil.copy(home / "machine-file.duckdb", copy / "machine-file.duckdb")
    settings = load_settings(home=copy, llm="template", kpi_plan=PLAN)
    db = MachineFile(settings.db_path)
    srv = LiveServer(create_app(settings, db)).start(wait_for_model=False)
    yield srv
    srv.stop()
    db.close()


def _get(srv: LiveServer, who: str | None, query: str = "") -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKENS[who]}"} if who else {}
    return httpx.get(f"{srv.url}/api/kpis{query}", headers=headers, timeout=30)


def test_api_scopes_by_role(server: LiveServer) -> None:
    everything = [_kpis(_get(server, who).json()) for who in ("admin", "compliance")]
    assert everything[0] == everything[1] and everything[0]["win_rate"]["denominator"] == 6
    north = _kpis(_get(server, "rep_north").json())
    assert (north["coverage_rate"]["numerator"], north["coverage_rate"]["denominator"]) == (4, 8)
    assert (north["win_rate"]["numerator"], north["win_rate"]["denominator"]) == (2, 4)
    assert north["revenue"]["value"] == 6900 and north["pipeline_value"]["denominator"] == 6  # M1–M4, M10, M3's lead
    assert north["plan_vs_actual"]["note"] == "the plan is the whole business's; actuals here are only your scope"
    south = _get(server, "rep_south").json()
    assert south["scope"] == "territory South" and _kpis(south)["win_rate"]["denominator"] == 2
    tina = _kpis(_get(server, "tina").json())["lead_turnaround"]  # her own three leads, not Otto's
    assert [b["leads"] for b in tina["by"]["bucket"]] == [1, 1, 0, 1, 0, 0]
    otto = _kpis(_get(server, "otto").json())
    assert [b["leads"] for b in otto["lead_turnaround"]["by"]["bucket"]] == [1, 0, 0, 0, 0, 0]
    assert otto["coverage_rate"]["denominator"] == 1  # his one assigned machine
    assert _get(server, None).status_code == 401
    assert _get(server, "admin", "?as_of=30.06.2026").status_code == 422
    far = _get(server, "admin", "?as_of=0001-01-01")
    assert far.status_code == 400 and "out of range" in far.text
    earlier = _kpis(_get(server, "admin", "?as_of=2025-06-30").json())
    assert earlier["win_rate"]["denominator"] == 1  # only M9's win of January 2025 falls in that year


def _page(browser: Browser, token: str, **context: Any) -> Any:
    page = browser.new_context(**context).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    return page


@pytest.mark.parametrize("who, viewport", [("admin", {"width": 1280, "height": 900}), ("rep_north", {"width": 390, "height": 844})])
def test_kpi_page_in_chromium(browser: Browser, server: LiveServer, who: str, viewport: dict[str, int]) -> None:
    page = _page(browser, TOKENS[who], viewport=viewport, is_mobile=viewport["width"] < 500)
    page.goto(f"{server.url}/ui/kpis.html?token={TOKENS[who]}")
    expect(page.locator(".kpi-card")).to_have_count(8)
    expect(page.locator("#kpi-win_rate .kpi-value")).to_have_text("50.0 %")  # 3 of 6; the North rep: 2 of 4
    expect(page.locator("#kpi-coverage_rate .kpi-def")).to_contain_text("active service contract")
    for chart in ("#chart-win-rate", "#chart-turnaround", "#chart-plan"):
        expect(page.locator(chart)).to_be_visible()
    assert page.locator("#chart-win-rate rect").count() == 3  # renewal, SLA offer, technician lead
    assert page.locator("#chart-turnaround rect").count() == 10  # five buckets: leads and win rate
    expect(page.locator("#kpi-plan_vs_actual .kpi-value")).to_have_text("35.3 %")  # 6,000 of 17,000 planned (North won the renewal)
    expect(page.locator("#kpi-plan_vs_actual")).to_contain_text("no plan set")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no horizontal page scroll
    if os.environ.get("SDI_KPI_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['SDI_KPI_SCREENSHOTS']}/kpis-{who}.png", full_page=True)
    assert page.errors == []
