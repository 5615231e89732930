"""Rule performance from recorded outcomes: win rate per rule and per band of each rule's inputs, with threshold
suggestions in words and their evidence; nothing is applied (an administrator edits the rules file)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sdi.loop.bands import best_split, fmt_num, make_bands, rate
from sdi.store import MachineFile
from sdi.triggers.outcomes import LATEST
from sdi.triggers.rules import load_rules

Scope = tuple[str, list[Any]]
ALL: Scope = ("TRUE", [])
SALES = "o.channel IS DISTINCT FROM 'scheduling'"
HOW_TO_APPLY = ("Nothing is applied automatically. To follow a suggestion, copy the rules file (SDI_HOME/rules.yaml, "
                "else the shipped sdi/rules.yaml), change the param, raise the rule's version, and load it with "
                "`sdi rules apply FILE` (it validates the file, keeps the previous one and records who applied it).")


def closed_rows(db: MachineFile, scope: Scope = ALL) -> list[tuple[str, str | None, str, str]]:
    """(opportunity id, primary rule, triggers JSON, result) of every closed sales opportunity in scope."""
    where, params = scope
    return db.sql(
        f"SELECT o.id, json_extract_string(o.data, '$.primary_rule'), CAST(json_extract(o.data, '$.triggers') AS VARCHAR), "
        f"oc.result FROM opportunities o JOIN {LATEST} oc ON oc.opportunity_id = o.id WHERE {SALES} AND {where} "
        "ORDER BY o.id", params)


def _numeric(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _inputs(triggers: list[dict[str, Any]]) -> dict[str, list[tuple[dict[str, Any], float]]]:
    """rule id -> (condition, value) of each numeric condition of its fired triggers."""
    out: dict[str, list[tuple[dict[str, Any], float]]] = defaultdict(list)
    for t in triggers:
        if t.get("status", "fired") != "fired":
            continue
        for c in t.get("conditions") or [t.get("condition") or {}]:
            if _numeric(c.get("value")):
                out[t["rule_id"]].append((c, float(c["value"])))
    return out


def rule_performance(db: MachineFile, home: Path | None, scope: Scope = ALL) -> dict[str, Any]:
    """Win rate by campaign rule, by every rule that fired, and by bands of each rule's numeric inputs."""
    rules = load_rules(home)
    as_campaign: Counter[tuple[str, bool]] = Counter()
    any_rule: Counter[tuple[str, bool]] = Counter()
    points: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    meta: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    rows = closed_rows(db, scope)
    for _, primary, triggers_json, result in rows:
        won = result == "won"
        triggers = json.loads(triggers_json or "[]")
        if primary:
            as_campaign[(primary, won)] += 1
        for rule_id in {t["rule_id"] for t in triggers if t.get("status", "fired") == "fired"}:
            any_rule[(rule_id, won)] += 1
        for rule_id, conds in _inputs(triggers).items():
            for c, value in conds:
                points[(rule_id, c["field"])].append((value, won))
                meta[(rule_id, c["field"])][json.dumps([c.get("operator"), c.get("threshold"), c.get("unit")])] += 1
    ids = sorted({r for r, _ in any_rule} | {r for r, _ in as_campaign})
    out_rules, suggestions = [], []
    for rule_id in ids:
        inputs = []
        for (rid, field), pts in sorted(points.items()):
            if rid != rule_id:
                continue
            operator, threshold, unit = json.loads(meta[(rid, field)].most_common(1)[0][0])
            bands = make_bands(pts)
            entry = {"field": field, "unit": unit, "operator": operator, "threshold": threshold,
                     "bands": [b.to_dict(unit) for b in bands], "suggestion": None}
            split = best_split(bands)
            if split:
                entry["suggestion"] = suggest(rules, rule_id, field, unit, operator, threshold, split)
                suggestions.append(entry["suggestion"])
            inputs.append(entry)
        out_rules.append({
            "rule_id": rule_id, "campaign": rules.rules[rule_id].campaign if rule_id in rules.rules else None,
            "as_campaign": rate(as_campaign[(rule_id, True)], as_campaign[(rule_id, True)] + as_campaign[(rule_id, False)]),
            "fired": rate(any_rule[(rule_id, True)], any_rule[(rule_id, True)] + any_rule[(rule_id, False)]),
            "inputs": inputs})
    won = sum(1 for r in rows if r[3] == "won")
    return {"closed": len(rows), "won": won, "overall": rate(won, len(rows)), "rules_file_version": rules.version,
            "rules": out_rules, "suggestions": suggestions, "how_to_apply": HOW_TO_APPLY,
            "method": "Bands have round edges chosen from the data (about six, each with at least 5 closed "
                      "opportunities); intervals are 95 % Wilson. A threshold is suggested only where the win rates "
                      "on both sides of a band edge (each at least 10 closed) have intervals that do not overlap."}


def _param(rules: Any, rule_id: str, value: Any, hint: str) -> tuple[str | None, Any]:
    """The rule's current param whose value the stored threshold came from (preferring names with `hint`)."""
    if rule_id not in rules.rules or not _numeric(value):
        return None, None
    params = {k: v for k, v in rules.params(rule_id).items() if _numeric(v)}
    named = [k for k in params if hint in k]
    matches = [k for k in params if float(params[k]) == float(value)]
    pick = next((k for k in matches if k in named), matches[0] if matches else (named[0] if len(named) == 1 else None))
    return (pick, params[pick]) if pick else (None, None)


def suggest(rules: Any, rule_id: str, field: str, unit: str | None, operator: str | None, threshold: Any,
            split: dict[str, Any]) -> dict[str, Any]:
    """A threshold suggestion in words, with the evidence on both sides of the split."""
    at, below, above = split["at"], split["below"], split["above"]
    u = f" {unit}" if unit else ""
    low_wins = below["win_rate"] > above["win_rate"]
    lo_label = f"{fmt_num(split['low'])}–{fmt_num(at)}{u}"
    hi_label = f"{fmt_num(at)}–{fmt_num(split['high'])}{u}"

    def said(r: dict[str, Any]) -> str:
        return f"{100 * r['win_rate']:.0f} % ({r['won']}/{r['n']})"

    if low_wins:
        evidence = f"{field} above {fmt_num(at)}{u} won {said(above)} against {said(below)} at {lo_label}"
    else:
        evidence = f"{field} up to {fmt_num(at)}{u} won {said(below)} against {said(above)} at {hi_label}"
    param, now = None, None
    if operator == "between" and isinstance(threshold, list) and len(threshold) == 2:
        param, now = _param(rules, rule_id, threshold[1] if low_wins else threshold[0], "max" if low_wins else "min")
    elif operator in (">", ">=") and not low_wins:
        param, now = _param(rules, rule_id, threshold, "min")
    elif operator in ("<", "<=") and low_wins:
        param, now = _param(rules, rule_id, threshold, "")
    if param:
        advice = f"consider {param} {fmt_num(at)} (now {fmt_num(now)})"
    else:
        side = "an upper limit" if low_wins else "a lower limit"
        advice = f"consider {side} of {fmt_num(at)}{u} on {field} (the rule has no parameter for it: a rule change)"
    return {"rule_id": rule_id, "field": field, "at": at, "param": param, "current": now,
            "suggested": at if param else None, "better": "below" if low_wins else "above",
            "below": below, "above": above, "z": split["z"], "text": f"{rule_id}: {evidence} — {advice}"}
