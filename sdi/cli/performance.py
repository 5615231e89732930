"""`sdi performance rules | account-managers | technicians`: what the outcomes say about rules and people."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import typer

from sdi.cli.options import JsonOpt, open_db, print_json




def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def _rate(r: dict[str, Any]) -> str:
    if not r["n"]:
        return "–"
    return f"{_pct(r['win_rate'])} ({r['won']}/{r['n']}, 95 % {_pct(r['ci_low'])}–{_pct(r['ci_high'])})"


def render_rules(r: dict[str, Any]) -> str:
    """The rules report as text."""
    lines = [f"{r['closed']:,} closed opportunities, {r['won']:,} won ({_pct(r['overall']['win_rate'])}); "
             f"rules file {r['rules_file_version']}", ""]
    for rule in r["rules"]:
        lines.append(f"{rule['rule_id']}: as campaign {_rate(rule['as_campaign'])}; fired on {_rate(rule['fired'])}")
        for i in rule["inputs"]:
            lines.append(f"  {i['field']} (fires {i['operator']} {i['threshold']})")
            lines += [f"    {b['label']:<24} {_rate(b)}" for b in i["bands"]]
    lines += ["", "Suggestions:"] + ([f"  {s['text']}" for s in r["suggestions"]] or ["  none (no band differs clearly)"])
    return "\n".join(lines + ["", r["how_to_apply"]])


def render_ams(r: dict[str, Any]) -> str:
    """The account-manager rating as text."""
    lines = [f"{'account manager':<24} {'awareness':>18} {'discounted wins':>22} {'lost to partner':>18}"]
    for p in r["account_managers"]:
        a, d, h = p["awareness"], p["discounting"], p["partner_handoff"]
        mean = f" ⌀{d['mean_discount_pct']:.1f}%" if d["mean_discount_pct"] is not None else ""
        lines.append(f"{p['account_manager']:<24} {a['acted_on']:>5}/{a['opportunities']:<5} {_pct(a['share']):>6} "
                     f"{d['discounted']:>4}/{d['won']:<4} {_pct(d['share']):>5}{mean:>8} "
                     f"{h['lost_to_partner']:>4}/{h['closed']:<4} {_pct(h['share']):>6}")
        lines += [f"    note: {n}" for n in p["notes"]]
    return "\n".join(lines)


def render_techs(r: dict[str, Any]) -> str:
    """The technicians' ranking as text."""
    lines = [f"{t['rank']:>3}. {t['technician']:<24} {t['credit']}"
             + (f"; median {t['median_days_to_outcome']} days to outcome" if t["median_days_to_outcome"] is not None else "")
             for t in r["ranking"]]
    return "\n".join(lines or ["No technician has reported a lead yet."])


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `performance rules`, `performance account-managers` and `performance technicians`."""
    perf = typer.Typer(help="What recorded outcomes say about the rules, account managers and technicians' leads.",
                       no_args_is_help=True)
    app.add_typer(perf, name="performance")

    def _run(compute: Callable[[Any, Path], dict[str, Any]], render: Callable[[dict[str, Any]], str], as_json: bool) -> None:
        from sdi.config import get_settings

        s = get_settings()
        with open_db(s) as db:
            result = compute(db, s.home)
        if as_json:
            print_json(result)
        else:
            typer.echo(render(result))

    @perf.command("rules")
    def rules(as_json: JsonOpt = False) -> None:
        """Win rate by rule and by bands of its inputs, with threshold suggestions (never applied)."""
        from sdi.loop.performance import rule_performance

        _run(rule_performance, render_rules, as_json)

    @perf.command("account-managers")
    def account_managers(as_json: JsonOpt = False) -> None:
        """Per account manager: awareness, discounting, partner hand-off, with the counts behind each."""
        from sdi.loop.account_managers import account_manager_rating

        _run(lambda db, _: account_manager_rating(db), render_ams, as_json)

    @perf.command("technicians")
    def technicians(as_json: JsonOpt = False) -> None:
        """The technicians' ranking by leads won, and what became of every lead (--json)."""
        from sdi.loop.technicians import technician_recognition

        _run(lambda db, _: technician_recognition(db), render_techs, as_json)
