"""Rule performance, account-manager rating and technician recognition from outcomes, on a real DuckDB base with a
planted pattern; the API's role scoping; the page in headless Chromium on a phone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from sdi.access.users import User, add_user, create_demo_users
from sdi.loop.account_managers import account_manager_rating
from sdi.loop.performance import rule_performance
from sdi.loop.technicians import technician_recognition
from sdi.store import MachineFile
from sdi.triggers.leads import create_lead, record_action
from sdi.triggers.opportunities import set_status
from sdi.triggers.outcomes import record_outcome
from tests.integration.api_base import LiveServer, settings_for

MACHINES = 200
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Planted:
    """The base and what the test recorded in it."""

    home: Path
    discounter: str  # the account manager who discounts every win
    partner_am: str  # the one whose losses go to a partner
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    leads: dict[str, list[str]] = field(default_factory=dict)


def _build(home: Path) -> None:
    """A 200-machine demo base, half of the 8–12-year-old machines aged by 5 years, modernization widened to 20 years
    (a trial campaign), triggers run."""
    from connectors.ingest import ingest
    from sdi.demo import generator as demo
    from sdi.demo.run import generate_demo_files
    from sdi.progress import Progress
    from sdi.triggers.facts import age_years_sql
    from sdi.triggers.service import run_triggers

    rules = (REPO / "sdi" / "rules.yaml").read_text(encoding="utf-8")
    assert "max_age_years: 12" in rules
    (home / "rules.yaml").write_text(rules.replace("max_age_years: 12", "max_age_years: 20"), encoding="utf-8")
    mapping = generate_demo_files(home / "demo-data", MACHINES, 7, demo.DEFAULT_AS_OF, Progress(quiet=True))
    with MachineFile(home / "machine-file.duckdb") as db:
        ingest(db, mapping)
        older = [s for (s,) in db.sql(f"SELECT serial FROM machines m WHERE {age_years_sql(demo.DEFAULT_AS_OF)} "
                                      "BETWEEN 8 AND 12 ORDER BY serial")][::2]
        db.execute("UPDATE machines SET install_date = install_date - INTERVAL 5 YEAR, age_years = age_years + 5, "
                   "year_of_manufacture = year_of_manufacture - 5 WHERE list_contains(?, serial)", [older])
        run_triggers(db, home, demo.DEFAULT_AS_OF, store=True)


def _plant(db: MachineFile, p: Planted) -> None:
    """Modernization wins at 8–12 years and loses above; one AM discounts every win, another loses to partners."""
    rows = db.sql("SELECT o.id, o.data, c.account_manager FROM opportunities o JOIN machines m USING (serial) "
                  "JOIN customers c USING (customer_id) WHERE o.channel <> 'scheduling' ORDER BY o.id")
    ams = Counter(am for _, _, am in rows)
    p.discounter, p.partner_am = [am for am, _ in ams.most_common(2)]
    counts: dict[str, Counter[str]] = defaultdict(Counter, {am: Counter() for am in ams})
    for k, (oid, data, am) in enumerate(rows):
        ages = [c["value"] for t in json.loads(data)["triggers"] if t["rule_id"] == "modernization"
                for c in t["conditions"] if c["field"] == "age_years"]
        if not ages:
            if k % 7 == 0:  # acted on, no outcome yet
                set_status(db, oid, "in_progress")
                counts[am]["acted"] += 1
            continue
        young = ages[0] <= 12
        won = young if k % 8 else not young  # 7 in 8 follow the pattern
        counts[am]["acted"] += 1
        counts[am]["closed"] += 1
        if won:
            discount = 12.0 if am == p.discounter else 0.0
            record_outcome(db, oid, "won", "test", value=10_000, currency="EUR", discount_pct=discount)
            counts[am]["won"] += 1
            counts[am]["discounted"] += int(discount > 0)
        elif am == p.partner_am:
            record_outcome(db, oid, "lost_to_partner", "test", partner="Müller Service GmbH", reason="local partner")
            counts[am]["partner"] += 1
        else:
            record_outcome(db, oid, "lost", "test", reason="no budget")
    p.counts = counts


def _leads(db: MachineFile, p: Planted) -> None:
    """Anna reports 3 leads (2 won: 1,000 + 2,400 EUR), Ben 2 (1 lost, 1 open); wins follow the AM's discount habit."""
    rows = db.sql("SELECT m.serial, c.account_manager FROM machines m JOIN customers c USING (customer_id) "
                  "ORDER BY m.serial LIMIT 5")
    anna, ben = User("Anna Tech", "technician"), User("Ben Tech", "technician")
    made = [create_lead(db, p.home, who, s, f"observed on {s}") for who, (s, _) in zip([anna, anna, anna, ben, ben], rows)]
    p.leads = {"Anna Tech": [x["id"] for x in made[:3]], "Ben Tech": [x["id"] for x in made[3:]]}
    for (lead, value), (_, am) in zip(((made[0], 1000), (made[1], 2400)), rows):
        record_action(db, lead["opportunity_id"], "Owner", "outcome")
        discount = 12.0 if am == p.discounter else 0.0
        record_outcome(db, lead["opportunity_id"], "won", "Owner", value=value, currency="EUR", discount_pct=discount)
        p.counts[am].update({"acted": 1, "closed": 1, "won": 1, "discounted": int(discount > 0)})
    record_outcome(db, made[3]["opportunity_id"], "lost", "Owner", reason="machine to be sold")
    p.counts[rows[3][1]].update({"acted": 1, "closed": 1})


@pytest.fixture(scope="module")
def planted() -> Iterator[Planted]:
    home = Path(tempfile.mkdtemp(prefix="sdi-perf-"))
    try:
        _build(home)
        p = Planted(home, "", "")
        with MachineFile(home / "machine-file.duckdb") as db:
            _plant(db, p)
            _leads(db, p)
        yield p
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_bands_find_the_planted_age_pattern_and_name_the_threshold(planted: Planted) -> None:
    with MachineFile(planted.home / "machine-file.duckdb") as db:
        r = rule_performance(db, planted.home)
    modern = next(x for x in r["rules"] if x["rule_id"] == "modernization")
    age = next(i for i in modern["inputs"] if i["field"] == "age_years")
    young = [b for b in age["bands"] if b["hi"] <= 12]
    old = [b for b in age["bands"] if b["lo"] >= 12]
    assert young and old and {b["lo"] for b in age["bands"]} >= {12}
    assert all(b["win_rate"] >= 0.6 for b in young) and all(b["win_rate"] <= 0.4 for b in old)
    s = age["suggestion"]
    assert s is not None and s["param"] == "max_age_years" and s["suggested"] == 12 and s["current"] == 20
    assert s["below"]["ci_low"] > s["above"]["ci_high"]
    assert "consider max_age_years 12 (now 20)" in s["text"] and "above 12 years won" in s["text"]
    assert s in r["suggestions"] and "sdi rules apply" in r["how_to_apply"]
    assert not any(x["rule_id"] == "modernization" and x["field"] == "error_events_in_window" for x in r["suggestions"])
    assert modern["fired"]["n"] == sum(b["n"] for b in age["bands"])
    # nothing applied: the rules file is unchanged
    assert "max_age_years: 20" in (planted.home / "rules.yaml").read_text(encoding="utf-8")


def test_account_manager_rating_counts_the_hand_made_pattern(planted: Planted) -> None:
    with MachineFile(planted.home / "machine-file.duckdb") as db:
        r = account_manager_rating(db)
        n_opps = Counter(am for (am,) in db.sql(
            "SELECT c.account_manager FROM opportunities o JOIN machines m USING (serial) JOIN customers c "
            "USING (customer_id) WHERE o.channel <> 'scheduling'"))
    rows = {p["account_manager"]: p for p in r["account_managers"]}
    assert set(rows) == set(planted.counts)
    for am, c in planted.counts.items():
        a, d, h = rows[am]["awareness"], rows[am]["discounting"], rows[am]["partner_handoff"]
        assert (a["opportunities"], a["acted_on"]) == (n_opps[am], c["acted"])
        assert a["share"] == round(c["acted"] / n_opps[am], 4)
        assert (d["won"], d["discounted"]) == (c["won"], c["discounted"])
        assert (h["closed"], h["lost_to_partner"]) == (c["closed"], c["partner"])
    disc = rows[planted.discounter]["discounting"]
    assert disc["won"] > 0 and disc["discounted"] == disc["won"] and disc["share"] == 1.0
    assert disc["mean_discount_pct"] == 12.0
    assert any("discounted" in n for n in rows[planted.discounter]["notes"])
    assert all(p["discounting"]["discounted"] == 0 for am, p in rows.items() if am != planted.discounter)
    ph = rows[planted.partner_am]["partner_handoff"]
    assert ph["lost_to_partner"] > 0 and ph["partners"] == ["Müller Service GmbH"]
    assert all(p["partner_handoff"]["lost_to_partner"] == 0 for am, p in rows.items() if am != planted.partner_am)


def test_technician_recognition_counts(planted: Planted) -> None:
    with MachineFile(planted.home / "machine-file.duckdb") as db:
        r = technician_recognition(db, "l.reporter = ?", ["Ben Tech"], mine="Ben Tech")
    first, second = r["ranking"]
    assert (first["technician"], first["reported"], first["won"], first["won_value"]) == ("Anna Tech", 3, 2, {"EUR": 3400})
    assert first["rank"] == 1 and first["credit"] == "2 leads won, 3,400 EUR — from 3 reported"
    assert (second["technician"], second["reported"], second["won"], second["closed"]) == ("Ben Tech", 2, 0, 1)
    assert "2 leads reported, 1 still being worked on" == second["credit"]
    assert {x["id"] for x in r["your_leads"]} == set(planted.leads["Ben Tech"]) == {x["id"] for x in r["leads"]}
    lost = next(x for x in r["your_leads"] if x["result"] == "lost")
    assert lost["reason"] == "machine to be sold" and lost["routed_to"] and lost["days_to_outcome"] is not None
    assert first["median_hours_to_first_action"] is not None


def test_cli_prints_the_suggestion(planted: Planted) -> None:
    env = {**os.environ, "SDI_HOME": str(planted.home)}
    out = subprocess.run([str(Path(sys.executable).parent / "sdi"), "performance", "rules", "--json"], capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert any(s["param"] == "max_age_years" for s in json.loads(out.stdout)["suggestions"])


@pytest.fixture(scope="module")
def server(planted: Planted) -> Iterator[tuple[LiveServer, dict[str, dict[str, str]], str]]:
    from sdi.api.app import create_app

    settings = settings_for(planted.home, llm="template")
    db = MachineFile(settings.db_path)
    demo = create_demo_users(db)
    tokens = {role: token for _, role, token in demo}
    territory = db.scalar("SELECT territory FROM users WHERE role = 'sales_rep'")
    _, tokens["anna"] = add_user(db, "Anna Tech", "technician", serials=[])
    srv = LiveServer(create_app(settings, db)).start(wait_for_model=False)
    try:
        yield srv, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()} | {"tokens": tokens}, territory
    finally:
        srv.stop()
        db.close()


def test_api_role_scoping(server: Any, planted: Planted) -> None:
    srv, h, territory = server
    with httpx.Client(base_url=srv.url, timeout=60) as c:
        assert c.get("/api/performance/rules").status_code == 401
        admin = c.get("/api/performance/rules", headers=h["admin"]).json()
        rep = c.get("/api/performance/rules", headers=h["sales_rep"]).json()
        assert admin["closed"] > rep["closed"] > 0 and admin["suggestions"]
        assert c.get("/api/performance/rules", headers=h["technician"]).status_code == 403
        assert c.get("/api/performance/account-managers", headers=h["anna"]).status_code == 403
        every = c.get("/api/performance/account-managers", headers=h["compliance"]).json()["account_managers"]
        mine = c.get("/api/performance/account-managers", headers=h["sales_rep"]).json()["account_managers"]
        assert len(every) > len(mine) >= 1 and {p["territory"] for p in mine} == {territory}
        anna = c.get("/api/performance/technicians", headers=h["anna"]).json()
        assert {x["id"] for x in anna["your_leads"]} == set(planted.leads["Anna Tech"]) == {x["id"] for x in anna["leads"]}
        assert [t["technician"] for t in anna["ranking"]] == ["Anna Tech", "Ben Tech"] and anna["you"]["rank"] == 1
        alls = c.get("/api/performance/technicians", headers=h["admin"]).json()
        assert len(alls["leads"]) == 5 and "your_leads" not in alls


def test_page_renders_on_a_phone(browser: Browser, server: Any) -> None:
    srv, h, _ = server
    for who, must in (("admin", "#band-svg rect"), ("anna", "#your-leads tbody tr")):
        page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{srv.url}/ui/performance.html?token={h['tokens'][who]}")
        expect(page.locator(must).first).to_be_visible()
        if who == "admin":
            expect(page.locator("#suggestions li").first).to_contain_text("max_age_years 12")
            expect(page.locator("#am-table tbody tr").first).to_be_visible()
            expect(page.locator("#tech-table tbody tr").first).to_contain_text("Anna Tech")
        else:
            expect(page.locator("#title")).to_have_text("My leads' results")
            expect(page.locator("#your-leads")).to_contain_text("3,400 EUR")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{who}: sideways scroll"
        assert errors == [], errors
        page.context.close()
