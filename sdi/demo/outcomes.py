"""A plausible year of sales history for the demo: monthly trigger replays, reps' outcomes and technicians' leads."""

from __future__ import annotations

import heapq
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from sdi.access.users import User
from sdi.audit.log import AuditLog
from sdi.store import MachineFile
from sdi.triggers import leads
from sdi.triggers.facts import base_machines_sql
from sdi.triggers.opportunities import SCHEDULING, set_status
from sdi.triggers.outcomes import record_outcome
from sdi.triggers.service import run_triggers

REPLAY_BUDGET = 24_000  # machine-months of replayed trigger runs (~6 s); larger bases replay every 2nd, 3rd … month
STRIDES = (1, 2, 3, 4, 6, 12)
CAPACITY = {"sales_rep": 2, "technician": 1}  # opportunities one owner works per month, best priority first
LEADS_PER_MONTH = 4
# Share of recorded outcomes that are wins, by primary rule; modernization offers follow the machine's age instead.
WIN = {"contract_renewal": 0.34, "warranty_sla": 0.26, "error_pattern": 0.30, "maintenance_due": 0.24, "wear": 0.27,
       "end_of_life": 0.16, "parts_reminder": 0.19, "note_lead": 0.28, "precursor": 0.25}
MODERNIZATION = ("modernization", "retrofit_age")
BAND = (8.0, 12.0, 0.36, 0.05)  # where a retrofit offer fired: aged 8-12 years converts well, above 12 poorly
LEAD_WIN = ((1.0, 0.45), (24.0, 0.24), (float("inf"), 0.10))  # by hours to first action (seed 000)
LOST = ("price", "no budget this year", "customer sees no need", "machine to be replaced", "competitor offer",
        "timing: plant shutdown")
PARTNERS = ("Müller Servicetechnik GmbH", "Hofer Industrieservice", "Maschinenservice Weber KG", "TechnoFix s.r.o.",
            "Van Dijk Onderhoud B.V.")
OBSERVED = {  # what the technician saw, by the first trigger the chosen offer answers
    "maintenance_due": "maintenance overdue on the hour counter; customer wants a fixed-price package",
    "wear": "axis noise and vibration at high feed", "parts_reminder": "nozzles and seals worn, light curtain flaky",
    "error_pattern": "recurring alarms since the last shift change",
    "contract_renewal": "customer asks about extending the contract",
    "warranty_sla": "customer asks for faster response times",
    "modernization": "control is obsolete; operator asks about a retrofit",
    "end_of_life": "customer plans a successor machine", "precursor": "unusual noise before the last stop"}


@dataclass(frozen=True)
class Profile:
    """How an account manager works: share of best opportunities taken up, discounting, losing service to partners."""

    diligence: float
    discount_p: float
    discount_pct: tuple[float, float]
    partner_p: float


AVERAGE = Profile(0.8, 0.12, (2.0, 8.0), 0.08)
TECHNICIAN = Profile(1.0, 0.05, (3.0, 5.0), 0.0)  # a technician sells standard offers at list price, nearly always


@dataclass
class History:
    """What the simulated year did."""

    replays: list[date] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    leads: int = 0
    fast_leads: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the audit payload)."""
        return {"replays": [d.isoformat() for d in self.replays], "outcomes": dict(self.outcomes),
                "statuses": dict(self.statuses), "leads": self.leads, "leads_acted_within_hour": self.fast_leads}

    def summary(self) -> str:
        """One paragraph for the demo's output."""
        o, s = self.outcomes, self.statuses
        return (f"history: {len(self.replays)} trigger runs ({self.replays[0]} … {self.replays[-1]}); "
                f"{sum(o.values())} outcomes ({o['won']} won, {o['lost']} lost, "
                f"{o['lost_to_partner']} lost to a partner), {s['dismissed']} dismissed, {s['in_progress']} in progress; "
                f"{self.leads} technician leads ({self.fast_leads} acted on within an hour); {self.seconds:.1f} s")


def month_ends(as_of: date) -> list[date]:
    """The month-ends of the 12 months before as_of, oldest first."""
    out, day = [], as_of.replace(day=1) - timedelta(days=1)
    while len(out) < 12:
        out.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return out[::-1]


class _Year:
    """The simulation: a queue of dated actions run in order between the monthly trigger runs."""

    def __init__(self, db: MachineFile, home: Path, seed: int, as_of: date) -> None:
        self.db, self.home, self.seed, self.as_of = db, home, seed, as_of
        self.rng = random.Random(f"sdi-demo-history:{seed}")
        self.end = datetime.combine(as_of, datetime.min.time())  # actions strictly before the data's as-of day
        self.audit = AuditLog(home)
        self.queue: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self.order = itertools.count()
        self.report = History()
        self.lead_opps: set[str] = set()
        names = [r[0] for r in db.sql(
            "SELECT DISTINCT account_manager FROM customers WHERE account_manager IS NOT NULL ORDER BY 1")]
        self.profiles = self._profiles(names)
        self.offers = [dict(zip(("offer_id", "price", "models", "triggers"), r)) for r in db.sql(
            "SELECT offer_id, price, models, triggers FROM service_offers ORDER BY offer_id")]

    def _profiles(self, names: list[str]) -> dict[str, Profile]:
        """One in five account managers discounts often and deep; one in five loses service to partners."""
        k = max(1, round(len(names) / 5))
        discounters, leakers = set(self.rng.sample(names, k)), set(self.rng.sample(names, k))
        return {n: Profile(round(self.rng.uniform(0.6, 0.95), 2), 0.75 if n in discounters else 0.12,
                           (10.0, 25.0) if n in discounters else (2.0, 8.0), 0.45 if n in leakers else 0.08)
                for n in names}

    def at(self, when: datetime, action: Callable[..., None], *args: Any) -> None:
        """Queue an action; one dated on or after the data's as-of day never happens."""
        if when < self.end:
            heapq.heappush(self.queue, (when, next(self.order), action, args))

    def run_until(self, until: datetime) -> None:
        """Run the queued actions dated before `until`, oldest first (actions may queue further ones)."""
        while self.queue and self.queue[0][0] < until:
            when, _, action, args = heapq.heappop(self.queue)
            action(when, *args)

    def _day(self, start: date, days: float) -> datetime:
        """A working-hours moment `days` after start."""
        return datetime.combine(start, datetime.min.time()) + timedelta(days=int(days), hours=self.rng.uniform(8, 17.5))

    # -- what people do -------------------------------------------------------------------------------------------

    def status(self, when: datetime, opp_id: str, status: str, user: str) -> None:
        """What the app's status button does: status, a lead's first action, an audit entry."""
        set_status(self.db, opp_id, status)
        if opp_id in self.lead_opps:
            leads.record_action(self.db, opp_id, user, f"status:{status}", at=when)
        self.audit.append("status", {"opportunity_id": opp_id, "status": status, "note": "demo history"}, user)
        self.report.statuses[status] += 1

    def outcome(self, when: datetime, opp_id: str, result: str, user: str, fields: dict[str, Any]) -> None:
        """What the app's outcome form does: outcome, status and a lead's first action, an audit entry."""
        out = record_outcome(self.db, opp_id, result, user, recorded_at=when.replace(microsecond=0), **fields)
        self.audit.append("outcome", out | {"source": {"demo_history": self.seed}}, user)
        self.report.outcomes[result] += 1

    def decide(self, start: date, opp_id: str, owner: str, p_win: float, price: float | None, am: str | None,
               role: str, started: bool = False) -> None:
        """Queue one worked opportunity's fate: dismissed, still in progress, or an outcome some weeks later."""
        roll = self.rng.random()
        if roll < 0.10:
            self.at(self._day(start, self.rng.uniform(1, 20)), self.status, opp_id, "dismissed", owner)
            return
        close = self._day(start, self.rng.triangular(6, 75, 24))
        if roll < 0.20 or close >= self.end:
            if not started:
                self.at(self._day(start, self.rng.uniform(1, 10)), self.status, opp_id, "in_progress", owner)
            return
        result, fields = self._result(p_win, price, self.profiles.get(am or "", AVERAGE), role)
        self.at(close, self.outcome, opp_id, result, owner, fields)

    def _result(self, p_win: float, price: float | None, prof: Profile, role: str) -> tuple[str, dict[str, Any]]:
        """Won (discounted as the closer tends to), lost, or lost to a partner (as the account's manager tends to)."""
        rng = self.rng
        price = price if price is not None else round(rng.uniform(800, 6000), -1)
        if rng.random() < p_win:
            closer = prof if role == "sales_rep" else TECHNICIAN
            disc = round(rng.uniform(*closer.discount_pct), 1) if rng.random() < closer.discount_p else 0.0
            return "won", {"value": round(price * (1 - disc / 100), -1), "currency": "EUR", "discount_pct": disc}
        if rng.random() < prof.partner_p:
            return "lost_to_partner", {"value": price, "currency": "EUR", "partner": rng.choice(PARTNERS),
                                       "reason": "chose a local service partner"}
        return "lost", {"value": price, "currency": "EUR", "reason": rng.choice(LOST)}

    def work(self, day: date, months: int) -> None:
        """Each owner takes up to their monthly capacity of the opportunities new on `day`, best first."""
        rows = self.db.sql(
            f"SELECT o.id, o.owner, o.owner_role, o.data, c.account_manager, b.age_years FROM opportunities o "
            f"LEFT JOIN machines m USING (serial) LEFT JOIN customers c ON c.customer_id = m.customer_id "
            f"LEFT JOIN ({base_machines_sql(day)}) b ON b.serial = o.serial "
            f"WHERE o.first_seen = ? AND o.status = 'open' AND o.channel <> '{SCHEDULING}' "
            f"AND o.owner NOT LIKE 'unassigned%' ORDER BY o.priority DESC, o.id", [day])
        taken: Counter[str] = Counter()
        for opp_id, owner, role, data, am, age in rows:
            prof = self.profiles.get(am or "", AVERAGE)
            if taken[owner] >= CAPACITY.get(role, 1) * months or self.rng.random() > prof.diligence:
                continue
            taken[owner] += 1
            record = json.loads(data)
            offers = record.get("offers") or []
            p_win = WIN.get(record["primary_rule"], 0.25)
            if set(MODERNIZATION) & set(record.get("rules") or []):  # a retrofit offer is on the table
                p_win = BAND[2] if BAND[0] <= (age or 0) <= BAND[1] else BAND[3]
            start = day + timedelta(days=int(self.rng.uniform(0, 30 * (months - 1))))  # spread a sampled period
            self.decide(start, opp_id, owner, p_win, offers[0]["price"] if offers else None, am, role)

    # -- technician leads -----------------------------------------------------------------------------------------

    def plan_leads(self, start: date) -> None:
        """Pick a few service visits per month at which the technician reported a lead."""
        rows = self.db.sql(
            f"SELECT s.date, s.technician, s.serial, b.model, c.account_manager FROM service_records s "
            f"JOIN ({base_machines_sql(self.as_of)}) b USING (serial) LEFT JOIN customers c USING (customer_id) "
            f"WHERE s.technician IS NOT NULL AND s.date > ? AND s.date < ? ORDER BY s.date, s.record_id",
            [start, self.as_of])
        by_month: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        for row in rows:
            by_month.setdefault((row[0].year, row[0].month), []).append(row)
        for month in sorted(by_month):
            visits = by_month[month]
            for row in sorted(self.rng.sample(visits, min(LEADS_PER_MONTH, len(visits))), key=visits.index):
                self.at(self._day(row[0], 0), self.lead, *row[1:])

    def _turnaround(self) -> float:
        """Hours from report to first action: many within the hour, a long tail of days."""
        roll = self.rng.random()
        if roll < 0.45:
            return self.rng.uniform(0.08, 0.95)
        if roll < 0.75:
            return self.rng.uniform(1, 8)
        return self.rng.uniform(8, 48) if roll < 0.9 else self.rng.uniform(48, 240)

    def lead(self, when: datetime, technician: str, serial: str, model: str, am: str | None) -> None:
        """A technician reports a lead; its owner acts after a turnaround that decides how well it converts."""
        fitting = [o for o in self.offers if not o["models"] or model in o["models"]]
        cheap = [o for o in fitting if o["price"] < 1500]
        offer = self.rng.choice(cheap if cheap and self.rng.random() < 0.65 else fitting)
        observed = OBSERVED.get(offer["triggers"][0], "customer asked about the offer")
        lead = leads.create_lead(self.db, self.home, User(technician, "technician"), serial, observed,
                                 "asked for a quote", offer["offer_id"], at=when)
        keys = ("id", "serial", "observed", "customer_wants", "offer_id", "opportunity_id", "owner", "owner_role",
                "has_photo")
        self.audit.append("lead", {k: lead[k] for k in keys}, technician)  # what the app's lead route audits
        self.report.leads += 1
        self.lead_opps.add(lead["opportunity_id"])
        hours = self._turnaround()
        first = when + timedelta(hours=hours)
        if first >= self.end:
            return
        self.report.fast_leads += hours < 1
        self.at(first, self.status, lead["opportunity_id"], "in_progress", lead["owner"])
        p_win = next(p for limit, p in LEAD_WIN if hours < limit)
        if self.rng.random() < 0.85:
            self.decide(first.date(), lead["opportunity_id"], lead["owner"], p_win, offer["price"], am,
                        lead["owner_role"], started=True)


def simulate_history(db: MachineFile, home: Path, seed: int,
                     progress: Callable[[str], None] | None = None) -> History | None:
    """Replay the year before the data's as-of date month by month (every few months for a large base) and record
    what reps and technicians did; None (nothing done) when the machine file already holds outcomes or leads."""
    say = progress or (lambda _m: None)
    if db.scalar("SELECT (SELECT count(*) FROM outcomes) + (SELECT count(*) FROM leads)"):
        say("the machine file already holds outcomes or leads: no demo history added")
        return None
    started = time.perf_counter()
    as_of = db.data_as_of()
    ends = month_ends(as_of)
    machines = db.scalar("SELECT count(*) FROM machines")
    stride = next((s for s in STRIDES if machines * 12 // s <= REPLAY_BUDGET), STRIDES[-1])
    year = _Year(db, home, seed, as_of)
    year.plan_leads(ends[0].replace(day=1) - timedelta(days=1))
    replays = ends[::stride]
    for day in replays:
        say(f"demo history: triggers as of {day}, then what reps and technicians did in the weeks after")
        year.run_until(datetime.combine(day, datetime.min.time()) + timedelta(days=1))
        run_triggers(db, home, day, store=True)
        year.work(day, stride)
        year.report.replays.append(day)
    year.run_until(year.end)
    year.report.seconds = time.perf_counter() - started
    year.audit.append("demo_history", year.report.to_dict() | {"seed": seed}, "demo")
    return year.report
