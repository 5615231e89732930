"""Account-manager rating: awareness of service opportunities, proclivity to discount, to hand service to a partner."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sdi.loop.bands import rate
from sdi.loop.performance import ALL, SALES, Scope
from sdi.store import MachineFile
from sdi.triggers.outcomes import LATEST

ACTED = ("in_progress", "won", "lost", "dismissed")
NO_MANAGER = "(no account manager)"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def account_manager_rating(db: MachineFile, scope: Scope = ALL) -> dict[str, Any]:
    """Per account manager (customers.account_manager, through the machine): the three measures and their counts.

    `scope` is a WHERE fragment over o (opportunities) and c (customers)."""
    where, params = scope
    acted = ", ".join(f"'{s}'" for s in ACTED)
    rows = db.sql(
        f"SELECT coalesce(c.account_manager, '{NO_MANAGER}') AS am, any_value(c.territory), count(*), "
        f"count(*) FILTER (WHERE o.status IN ({acted}) OR oc.id IS NOT NULL), count(oc.id), "
        "count(*) FILTER (WHERE oc.result = 'won'), "
        "count(*) FILTER (WHERE oc.result = 'won' AND oc.discount_pct > 0), "
        "count(*) FILTER (WHERE oc.result = 'won' AND oc.discount_pct IS NOT NULL), "
        "avg(oc.discount_pct) FILTER (WHERE oc.result = 'won' AND oc.discount_pct IS NOT NULL), "
        "avg(oc.discount_pct) FILTER (WHERE oc.result = 'won' AND oc.discount_pct > 0), "
        "count(*) FILTER (WHERE oc.result = 'lost_to_partner'), list(oc.partner) FILTER (WHERE oc.partner IS NOT NULL), "
        "count(DISTINCT c.customer_id) "
        f"FROM opportunities o JOIN machines m ON m.serial = o.serial JOIN customers c ON c.customer_id = m.customer_id "
        f"LEFT JOIN {LATEST} oc ON oc.opportunity_id = o.id WHERE {SALES} AND {where} GROUP BY ALL ORDER BY am", params)
    people = [_person(r) for r in rows]
    team = _team(people)
    for p in people:
        p["notes"] = _notes(p, team)
    return {"account_managers": people, "team": team,
            "definitions": {
                "awareness": "share of their accounts' sales opportunities acted on: status moved on (in progress, "
                             "won, lost, dismissed) or an outcome recorded",
                "discounting": "share of their won opportunities with a discount above 0, and the mean discount "
                               "over wins whose discount was recorded",
                "partner_handoff": "share of their closed opportunities lost to a partner"}}


def _person(r: tuple[Any, ...]) -> dict[str, Any]:
    (name, territory, n, acted, closed, won, discounted, with_discount, mean_disc, mean_given, partner, partners,
     accounts) = r
    return {
        "account_manager": name, "territory": territory, "accounts": accounts,
        "awareness": {"opportunities": n, "acted_on": acted, **_ci(acted, n)},
        "discounting": {"won": won, "discounted": discounted, "discount_recorded": with_discount, **_ci(discounted, won),
                        "mean_discount_pct": round(mean_disc, 2) if mean_disc is not None else None,
                        "mean_discount_pct_when_given": round(mean_given, 2) if mean_given is not None else None},
        "partner_handoff": {"closed": closed, "lost_to_partner": partner, **_ci(partner, closed),
                            "partners": [p for p, _ in Counter(partners or []).most_common(3)]},
    }


def _ci(part: int, whole: int) -> dict[str, Any]:
    r = rate(part, whole)
    return {"share": r["win_rate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}


def _team(people: list[dict[str, Any]]) -> dict[str, Any]:
    def tot(section: str, key: str) -> int:
        return sum(p[section][key] for p in people)
    return {"awareness": _share(tot("awareness", "acted_on"), tot("awareness", "opportunities")),
            "discounting": _share(tot("discounting", "discounted"), tot("discounting", "won")),
            "partner_handoff": _share(tot("partner_handoff", "lost_to_partner"), tot("partner_handoff", "closed"))}


def _notes(p: dict[str, Any], team: dict[str, Any]) -> list[str]:
    """Plain-language remarks where a person's share lies clearly (outside its 95 % interval) off the team's."""
    out = []
    a, d, h = p["awareness"], p["discounting"], p["partner_handoff"]
    if a["share"] is not None and team["awareness"] is not None and a["ci_high"] < team["awareness"]:
        out.append(f"acted on {a['acted_on']} of {a['opportunities']} opportunities ({100 * a['share']:.0f} %), "
                   f"team {100 * team['awareness']:.0f} %")
    if d["share"] is not None and team["discounting"] is not None and d["ci_low"] > team["discounting"]:
        mean = f", mean {d['mean_discount_pct_when_given']:.1f} %" if d["mean_discount_pct_when_given"] is not None else ""
        out.append(f"discounted {d['discounted']} of {d['won']} wins{mean}; team {100 * team['discounting']:.0f} %")
    if h["share"] is not None and team["partner_handoff"] is not None and h["ci_low"] > team["partner_handoff"]:
        out.append(f"lost {h['lost_to_partner']} of {h['closed']} closed to a partner; team {100 * team['partner_handoff']:.0f} %")
    return out
