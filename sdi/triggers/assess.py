"""`sdi assess`: the installed-base assessment — data gaps and campaign readiness per model and territory."""

from __future__ import annotations

from datetime import date
from typing import Any

from sdi.store import MachineFile
from sdi.triggers.engine import detect
from sdi.triggers.facts import age_years_sql, connected_sql
from sdi.triggers.rules import RulesFile

# What a machine lacks (a data gap) — name -> SQL condition over the per-machine facts table `mf`.
GAPS: dict[str, tuple[str, str]] = {
    "no_age": ("no install date, build year or age", "age_years IS NULL"),
    "no_location": ("no site / location", "site IS NULL"),
    "no_customer": ("no known customer (territory unknown)", "territory IS NULL"),
    "contract_without_end_date": ("a contract has no end date", "contract_no_end"),
    "no_telemetry": ("no telemetry connection", "NOT has_telemetry"),
    "no_service_history_10y": ("running > 10 years without documented service", "age_years > 10 AND (last_service IS NULL OR last_service < as_of - INTERVAL 10 YEAR)"),
    "model_not_in_catalog": ("model missing from the model catalog", "NOT in_catalog"),
    "no_maintenance_interval": ("model has no maintenance interval", "interval_hours IS NULL"),
}

def machine_facts_sql(as_of: date) -> str:
    """One row per machine in service with the facts the gap list looks at."""
    d = f"DATE '{as_of.isoformat()}'"
    return f"""
    WITH con AS (
        SELECT serial, bool_or(end_date IS NULL) AS no_end FROM contracts
        WHERE coalesce(start_date, {d}) <= {d} GROUP BY serial),
    sr AS (SELECT serial, max(date) AS last_service FROM service_records WHERE date <= {d} GROUP BY serial)
    SELECT m.serial, m.model, c.territory, m.site, {d} AS as_of,
        {age_years_sql(as_of)} AS age_years,
        coalesce(con.no_end, FALSE) AS contract_no_end,
        m.serial IN ({connected_sql(as_of)}) AS has_telemetry,
        md.model IS NOT NULL AS in_catalog,
        md.maintenance_interval_hours AS interval_hours,
        sr.last_service
    FROM machines m
    LEFT JOIN customers c USING (customer_id)
    LEFT JOIN models md ON md.model = m.model
    LEFT JOIN con ON con.serial = m.serial
    LEFT JOIN sr ON sr.serial = m.serial
    WHERE coalesce(m.lifecycle_status, '') NOT IN ('decommissioned', 'scrapped')
    """


def assess(db: MachineFile, rules: RulesFile, as_of: date) -> dict[str, Any]:
    """Gap counts and campaign-ready shares (rules evaluable), overall and per model and per territory."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE mf AS {machine_facts_sql(as_of)}")
    run = detect(db, rules, as_of)
    db.execute("CREATE OR REPLACE TEMP TABLE ne (serial VARCHAR, rule_id VARCHAR)")
    if run.not_evaluable:
        db.executemany("INSERT INTO ne VALUES (?, ?)", [[g.serial, g.rule_id] for g in run.not_evaluable])
    gap_cols = ", ".join(f"count(*) FILTER (WHERE {cond}) AS {name}" for name, (_, cond) in GAPS.items())
    ready_cols = ", ".join(
        f"count(*) FILTER (WHERE mf.serial NOT IN (SELECT serial FROM ne WHERE rule_id = '{r}')) AS {r}" for r in rules.rule_ids
    )
    query = (
        f"SELECT GROUPING(model) AS gm, GROUPING(territory) AS gt, model, territory, count(*) AS machines, "
        f"{gap_cols}, {ready_cols} FROM mf GROUP BY GROUPING SETS ((), (model), (territory)) "
        f"ORDER BY gm DESC, gt DESC, model NULLS LAST, territory NULLS LAST"
    )
    out: dict[str, Any] = {"as_of": as_of.isoformat(), "by_model": [], "by_territory": []}
    for rec in db.rows_as_dicts(query):
        group = _group(rec, rules.rule_ids)
        if rec["gm"] and rec["gt"]:
            out.update(group)
        elif not rec["gm"]:
            out["by_model"].append({"model": rec["model"], **group})
        else:
            out["by_territory"].append({"territory": rec["territory"] or "(unknown)", **group})
    missing: dict[str, dict[str, int]] = {r: {} for r in rules.rule_ids}
    for t in run.not_evaluable:
        for name in t.missing:
            missing[t.rule_id][name] = missing[t.rule_id].get(name, 0) + 1
    out["not_evaluable_because"] = {r: dict(sorted(m.items())) for r, m in missing.items()}
    out["definitions"] = {
        "gaps": {k: v[0] for k, v in GAPS.items()},
        "readiness": {r: rules.rules[r].campaign for r in rules.rule_ids},
    }
    return out


def _group(rec: dict[str, Any], rule_ids: tuple[str, ...]) -> dict[str, Any]:
    n = rec["machines"] or 0
    return {
        "machines": n,
        "gaps": {name: rec[name] for name in GAPS},
        "ready_share": {name: round(rec[name] / n, 4) if n else 0.0 for name in rule_ids},
    }


def render(result: dict[str, Any]) -> str:
    """The assessment as plain-text tables."""
    lines = [f"Installed-base assessment as of {result['as_of']}: {result.get('machines', 0):,} machines in service", ""]
    lines.append("Data gaps (machines affected):")
    for name, label in result["definitions"]["gaps"].items():
        lines.append(f"  {label:<48} {result['gaps'][name]:>8,}")
    lines += ["", "Campaign-ready share (the trigger rule can be evaluated: the data it needs is there):"]
    for name, label in result["definitions"]["readiness"].items():
        why = ", ".join(f"{k} ({v:,})" for k, v in result["not_evaluable_because"][name].items())
        lines.append(f"  {name:<18} {result['ready_share'][name]:>7.1%}  {label}" + (f" — missing: {why}" if why else ""))
    for key, title in (("by_model", "model"), ("by_territory", "territory")):
        lines += ["", f"By {title}:"]
        camp = list(result["definitions"]["readiness"])
        lines.append(f"  {title:<14} {'machines':>8}  " + " ".join(f"{c[:10]:>10}" for c in camp) + "  top gap")
        for group in result[key]:
            top = max(group["gaps"].items(), key=lambda kv: kv[1])
            top_text = f"{top[0]} ({top[1]})" if top[1] else "-"
            shares = " ".join(f"{group['ready_share'][c]:>10.0%}" for c in camp)
            lines.append(f"  {str(group[title])[:14]:<14} {group['machines']:>8,}  {shares}  {top_text}")
    return "\n".join(lines)
