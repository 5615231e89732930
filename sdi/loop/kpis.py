"""Service-sales KPIs, each with its definition: coverage, renewal, win rate, pipeline, lead turnaround, revenue, plan."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sdi.errors import SdiError
from sdi.loop.crm import amount as crm_amount
from sdi.store import MachineFile
from sdi.triggers.facts import OUT_OF_SERVICE, base_machines_sql
from sdi.triggers.leads import RULE_ID as LEAD_RULE
from sdi.triggers.opportunities import SCHEDULING
from sdi.triggers.outcomes import LATEST as LATEST_OUTCOMES

SERVICE_CONTRACTS = ("maintenance", "service", "full_service", "sla")  # warranties come with the machine: not sold
PERIOD_DAYS = 365
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
RENEWAL_DAYS = 90
# (label, from hours, to hours): report -> first action
BUCKETS = (("< 1 h", 0, 1), ("1–4 h", 1, 4), ("4–24 h", 4, 24), ("1–3 d", 24, 72), ("> 3 d", 72, None))
Clause = tuple[str, list[Any]]
EVERYTHING: Clause = ("TRUE", [])


@dataclass(frozen=True)
class Scope:
    """What the caller sees, as SQL fragments: machines (alias m), opportunities (alias o), leads (alias l with o)."""

    label: str = "everything"
    machines: Clause = EVERYTHING
    opportunities: Clause = EVERYTHING
    leads: Clause = EVERYTHING


@dataclass
class Kpi:
    """One number, how it was counted, and its breakdowns."""

    id: str
    name: str
    unit: str
    definition: str
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    by: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {k: getattr(self, k) for k in ("id", "name", "value", "unit", "numerator", "denominator", "definition",
                                               "by", "note")}


def _ratio(num: float | None, den: float | None) -> float | None:
    return round(num / den, 4) if num is not None and den else None


def _rows(db: MachineFile, sql: str, params: list[Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(keys, r)) for r in db.sql(sql, params)]


def _share_rows(rows: list[dict[str, Any]], dims: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Split GROUPING SETS rows (dim columns, num, den) into the total and one list per dimension."""
    total: dict[str, Any] = {"numerator": 0, "denominator": 0}
    by: dict[str, list[dict[str, Any]]] = {d: [] for d in dims}
    for r in rows:
        entry = {"numerator": r["num"] or 0, "denominator": r["den"] or 0}
        entry["value"] = _ratio(entry["numerator"], entry["denominator"])
        dim = next((d for d in dims if r[f"g_{d}"] == 0), None)
        if dim is None:
            total = entry
        else:
            by[dim].append({"key": r[dim] if r[dim] is not None else "(none)", **entry})
    for entries in by.values():
        entries.sort(key=lambda e: (-e["denominator"], str(e["key"])))
    return total, by


def _grouped(db: MachineFile, base_sql: str, params: list[Any], dims: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, list]]:
    """num/den over base_sql's rows (columns num, den and the dims), in total and per dimension."""
    sets = ", ".join(f"({d})" for d in dims) + ", ()"
    cols = ", ".join(f"{d}, grouping({d}) AS g_{d}" for d in dims)
    sql = f"SELECT {cols}, sum(num) AS num, sum(den) AS den FROM ({base_sql}) GROUP BY GROUPING SETS ({sets})"
    keys = tuple(x for d in dims for x in (d, f"g_{d}")) + ("num", "den")
    return _share_rows(_rows(db, sql, params, keys), dims)


def _fill(kpi: Kpi, total: dict[str, Any], by: dict[str, list[dict[str, Any]]]) -> Kpi:
    kpi.numerator, kpi.denominator = total["numerator"], total["denominator"]
    kpi.value, kpi.by = _ratio(kpi.numerator, kpi.denominator), by
    return kpi


def _types() -> str:
    return ", ".join(f"'{t}'" for t in SERVICE_CONTRACTS)


def coverage(db: MachineFile, as_of: date, scope: Scope) -> Kpi:
    """Share of the installed base in service under an active service contract."""
    kpi = Kpi("coverage_rate", "Service contract coverage", "%", (
        f"Machines in service at {as_of} (installed on or before it or install date unknown, lifecycle not "
        f"{'/'.join(OUT_OF_SERVICE)}) under at least one active service contract ({', '.join(SERVICE_CONTRACTS)}; "
        "active = started on or before as-of (or no start date), ends on or after it, not cancelled), "
        "÷ all machines in service. Warranties do not count. Typical: 10–25 %."))
    where, params = scope.machines
    sql = f"""
        SELECT coalesce(c.territory, '(none)') AS territory, m.model AS model,
               (m.serial IN (SELECT serial FROM contracts WHERE type IN ({_types()})
                  AND coalesce(status, '') <> 'cancelled' AND coalesce(start_date, ?) <= ? AND end_date >= ?))::INT AS num,
               1 AS den
        FROM machines m LEFT JOIN customers c USING (customer_id)
        WHERE m.serial IN (SELECT serial FROM ({base_machines_sql(as_of)})) AND {where}"""  # in service: as triggers
    return _fill(kpi, *_grouped(db, sql, [as_of, as_of, as_of, *params], ("territory", "model")))


def renewal(db: MachineFile, as_of: date, scope: Scope) -> Kpi:
    """Share of the service contracts that ended in the last 12 months and were followed by a newer one."""
    start = as_of - timedelta(days=PERIOD_DAYS)
    kpi = Kpi("renewal_rate", "Contract renewal rate", "%", (
        f"Service contracts ({', '.join(SERVICE_CONTRACTS)}, not cancelled) that ended after {start} and on or before "
        f"{as_of}, followed by a newer service contract on the same machine (any of those types, started after the "
        f"old one started and no later than {RENEWAL_DAYS} days after it ended; an early renewal that overlaps counts) "
        "÷ all such contracts that ended. A renewal starting after as-of counts when the machine file already has it."))
    where, params = scope.machines
    sql = f"""
        SELECT coalesce(c.territory, '(none)') AS territory, k.type AS contract_type,
               EXISTS (SELECT 1 FROM contracts n WHERE n.serial = k.serial AND n.contract_id <> k.contract_id
                       AND n.type IN ({_types()}) AND coalesce(n.status, '') <> 'cancelled'
                       AND n.start_date > coalesce(k.start_date, DATE '1900-01-01')
                       AND n.start_date <= k.end_date + INTERVAL {RENEWAL_DAYS} DAY)::INT AS num,
               1 AS den
        FROM contracts k JOIN machines m USING (serial) LEFT JOIN customers c ON c.customer_id = m.customer_id
        WHERE k.type IN ({_types()}) AND coalesce(k.status, '') <> 'cancelled'
          AND k.end_date > ? AND k.end_date <= ? AND {where}"""
    return _fill(kpi, *_grouped(db, sql, [start, as_of, *params], ("territory", "contract_type")))


CLOSED = """
    SELECT o.id, o.campaign, json_extract_string(o.data, '$.primary_rule') AS rule, coalesce(o.territory, '(none)') AS territory,
           x.result, x.value, x.currency
    FROM {latest} x
    JOIN opportunities o ON o.id = x.opportunity_id
    WHERE x.recorded_at::DATE > ? AND x.recorded_at::DATE <= ? AND {where}"""


def _closed(as_of: date, scope: Scope) -> tuple[str, list[Any]]:
    where, params = scope.opportunities
    return CLOSED.format(where=where, latest=LATEST_OUTCOMES), [as_of - timedelta(days=PERIOD_DAYS), as_of, *params]


def win_rate(db: MachineFile, as_of: date, scope: Scope) -> Kpi:
    """Won ÷ closed over the last 12 months, per campaign, rule and territory."""
    kpi = Kpi("win_rate", "Win rate", "%", (
        f"Opportunities whose latest outcome was recorded after {as_of - timedelta(days=PERIOD_DAYS)} and on or before "
        f"{as_of}: won ÷ closed (won + lost + lost to a partner). Per campaign, per rule (the opportunity's campaign "
        "rule) and per territory."))
    sql, params = _closed(as_of, scope)
    base = f"SELECT campaign, rule, territory, (result = 'won')::INT AS num, 1 AS den FROM ({sql})"
    return _fill(kpi, *_grouped(db, base, params, ("campaign", "rule", "territory")))


def _currency(db: MachineFile, sql: str, params: list[Any]) -> str:
    found = [r[0] for r in db.sql(f"SELECT DISTINCT currency FROM ({sql}) WHERE currency IS NOT NULL ORDER BY 1", params)]
    return found[0] if len(found) == 1 else "mixed currencies" if found else "value"


def revenue(db: MachineFile, as_of: date, scope: Scope) -> tuple[Kpi, Kpi, list[dict[str, Any]]]:
    """Won value overall and from technician leads; also the per-campaign actuals for plan vs actual."""
    sql, params = _closed(as_of, scope)
    unit = _currency(db, sql, params)
    period = f"after {as_of - timedelta(days=PERIOD_DAYS)} and on or before {as_of}"
    rows = _rows(db, f"SELECT campaign, rule = '{LEAD_RULE}' AS lead, count(*), sum(coalesce(value, 0)) FROM ({sql}) "
                 "WHERE result = 'won' GROUP BY ALL ORDER BY 4 DESC, 1", params, ("campaign", "lead", "won", "value"))
    per_campaign: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = per_campaign.setdefault(r["campaign"], {"key": r["campaign"], "value": 0.0, "won": 0})
        entry["value"] += r["value"]
        entry["won"] += r["won"]
    total = sum(r["value"] for r in rows)
    leads = sum(r["value"] for r in rows if r["lead"])
    overall = Kpi("revenue", "Revenue won", unit, f"Sum of the order values of opportunities won {period} "
                  "(latest outcome won; a win without a value counts 0).", total, None, round(total, 2),
                  {"campaign": list(per_campaign.values())})
    lead_kpi = Kpi("lead_revenue", "Revenue from technician leads", unit, f"Sum of the order values of technician-lead "
                   f"opportunities won {period}; numerator = lead revenue, denominator = all revenue won.",
                   leads, total, round(leads, 2), {"share_of_revenue": [{"key": "technician leads", "numerator": leads,
                                                                         "denominator": total, "value": _ratio(leads, total)}]})
    return overall, lead_kpi, list(per_campaign.values())


def pipeline(db: MachineFile, as_of: date, scope: Scope) -> Kpi:
    """Estimated value of the open sales opportunities, per campaign (the CRM export's Amount)."""
    where, params = scope.opportunities
    rows = db.sql(f"SELECT o.campaign, o.data FROM opportunities o WHERE o.status IN ('open', 'in_progress') "
                  f"AND coalesce(o.channel, '') <> '{SCHEDULING}' AND o.first_seen <= ? AND {where}", [as_of, *params])
    per: dict[str, dict[str, Any]] = {}
    unpriced = 0
    for campaign, data in rows:
        amount = crm_amount(json.loads(data), None)
        entry = per.setdefault(campaign, {"key": campaign, "value": 0.0, "open": 0, "unpriced": 0})
        entry["open"] += 1
        if amount is None:
            entry["unpriced"] += 1
            unpriced += 1
        else:
            entry["value"] += amount
    total = round(sum(e["value"] for e in per.values()), 2)
    currencies = [r[0] for r in db.sql("SELECT DISTINCT currency FROM service_offers WHERE currency IS NOT NULL")]
    return Kpi("pipeline_value", "Open pipeline value", currencies[0] if len(currencies) == 1 else "list price", (
        "Sum of the estimated values of the open sales opportunities (status open or in progress, first seen on or "
        "before as-of; the service team's scheduling tasks left out). Estimated value = the CRM export's Amount: the "
        "list price of the catalogue offer that answers the primary trigger; denominator: the open opportunities counted. "
        "The status is today's, not as-of's."),
        total, len(rows), total, {"campaign": sorted(per.values(), key=lambda e: (-e["value"], e["key"]))},
        f"{unpriced} open opportunities have no fitting offer and count 0" if unpriced else None)


def turnaround(db: MachineFile, as_of: date, scope: Scope) -> Kpi:
    """Technician leads: the distribution of report -> first action, and the win rate per bucket."""
    start = as_of - timedelta(days=PERIOD_DAYS)
    where, params = scope.leads
    case = " ".join(f"WHEN h < {hi} THEN '{label}'" for label, _, hi in BUCKETS if hi is not None)
    sql = f"""
        SELECT bucket, count(*) AS leads, count(result) AS closed, count(*) FILTER (WHERE result = 'won') AS won,
               median(h) AS median_h
        FROM (SELECT CASE WHEN h IS NULL THEN 'not acted on' {case} ELSE '{BUCKETS[-1][0]}' END AS bucket, h, result
              FROM (SELECT epoch(l.first_action_at - l.reported_at) / 3600.0 AS h, x.result
                    FROM leads l LEFT JOIN opportunities o ON o.id = l.opportunity_id
                    LEFT JOIN (SELECT opportunity_id, arg_max(result, id) AS result FROM outcomes
                               WHERE recorded_at::DATE <= ? GROUP BY opportunity_id) x ON x.opportunity_id = l.opportunity_id
                    WHERE l.reported_at::DATE > ? AND l.reported_at::DATE <= ? AND {where}))
        GROUP BY bucket"""
    got = {r[0]: r for r in db.sql(sql, [as_of, start, as_of, *params])}
    acted = sum(r[1] for k, r in got.items() if k != "not acted on")
    buckets = []
    for label, *_ in (*BUCKETS, ("not acted on", None, None)):
        _, leads, closed, won, _ = got.get(label, (label, 0, 0, 0, None))
        buckets.append({"key": label, "leads": leads, "share": _ratio(leads, acted) if label != "not acted on" else None,
                        "closed": closed, "won": won, "win_rate": _ratio(won, closed)})
    fast = buckets[0]["leads"]
    median_all = db.scalar(f"SELECT median(epoch(l.first_action_at - l.reported_at) / 3600.0) FROM leads l LEFT JOIN "
                           f"opportunities o ON o.id = l.opportunity_id WHERE l.first_action_at IS NOT NULL AND "
                           f"l.reported_at::DATE > ? AND l.reported_at::DATE <= ? AND {where}", [start, as_of, *params])
    return Kpi("lead_turnaround", "Technician leads acted on within 1 hour", "%", (
        f"Technician leads reported after {start} and on or before {as_of}: hours from the report to the owner's first "
        "action (status change or outcome), bucketed < 1 h, 1–4 h, 4–24 h, 1–3 d, > 3 d. The number is the share "
        "acted on within 1 hour (of those acted on); per bucket the win rate = won ÷ closed (latest outcome). "
        "Leads contacted within an hour qualify far more often."), fast, acted, _ratio(fast, acted),
        {"bucket": buckets}, f"median {median_all:.1f} h to first action" if median_all is not None else None)


def plan_vs_actual(plan: dict[str, float], actuals: list[dict[str, Any]], unit: str, scoped: bool) -> Kpi:
    """Won revenue per campaign against the configured plan (kpi_plan); campaigns without a plan say so."""
    actual = {a["key"]: a["value"] for a in actuals}
    rows = [{"key": c, "plan": plan.get(c), "actual": round(actual.get(c, 0.0), 2), "unit": unit,
             "value": _ratio(actual.get(c, 0.0), plan.get(c)), "status": "no plan set" if c not in plan else None}
            for c in sorted(set(plan) | set(actual), key=lambda c: (c not in plan, c))]
    planned = sum(plan.values())
    done = sum(actual.get(c, 0.0) for c in plan)
    note = None if plan else "no plan set (add kpi_plan: {campaign: target revenue} to the config file)"
    if scoped and plan:
        note = "the plan is the whole business's; actuals here are only your scope"
    return Kpi("plan_vs_actual", "Plan vs actual", "%", (
        f"Revenue won in the last 12 months per campaign ({unit}) ÷ the campaign's target in the config setting kpi_plan. "
        "The number: won revenue of the planned campaigns ÷ the sum of their targets; a campaign without a target "
        "is shown as 'no plan set'."), round(done, 2), planned or None, _ratio(done, planned), {"campaign": rows}, note)


def compute(db: MachineFile, as_of: date, scope: Scope | None = None, plan: dict[str, float] | None = None) -> dict[str, Any]:
    """Every KPI at as-of within the scope, as JSON-ready data."""
    if not EARLIEST <= as_of <= LATEST:
        raise SdiError(f"as-of {as_of} is out of range", f"give a date between {EARLIEST} and {LATEST}")
    scope = scope or Scope()
    overall, leads, actuals = revenue(db, as_of, scope)
    kpis = [coverage(db, as_of, scope), renewal(db, as_of, scope), win_rate(db, as_of, scope),
            pipeline(db, as_of, scope), turnaround(db, as_of, scope), leads, overall,
            plan_vs_actual(plan or {}, actuals, overall.unit, scope.label != "everything")]
    return {"as_of": as_of.isoformat(), "period": {"from": (as_of - timedelta(days=PERIOD_DAYS)).isoformat(),
                                                   "to": as_of.isoformat()},
            "scope": scope.label, "kpis": [k.to_dict() for k in kpis]}
