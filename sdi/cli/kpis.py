"""`sdi kpis`: the service-sales KPIs, each printed with its definition."""

from __future__ import annotations

import sys
import textwrap
from typing import Annotated, Any, Optional

import typer

from sdi.cli.options import JsonOpt, open_db, parse_date, print_json

WIDTH = 100


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{100 * value:.1f} %"
    return f"{value:,.2f} {unit}".replace(".00 ", " ")


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _entry(entry: dict[str, Any], unit: str) -> str:
    """One breakdown line: key, value and whatever counts it carries."""
    if "win_rate" in entry:  # turnaround buckets
        share = "" if entry["share"] is None else f" ({100 * entry['share']:.1f} %)"
        return (f"{entry['key']:<14} {entry['leads']:>6,} leads{share:<10}  win rate {_fmt(entry['win_rate'], '%')} "
                f"({entry['won']}/{entry['closed']} closed)")
    if "plan" in entry:
        plan = entry["status"] or f"plan {_fmt(entry['plan'], entry['unit'])}"
        return f"{entry['key'][:44]:<44} actual {_fmt(entry['actual'], entry['unit']):>16}  {plan}  {_fmt(entry['value'], '%')}"
    if "denominator" in entry:
        return (f"{str(entry['key'])[:44]:<44} {_fmt(entry['value'], '%'):>8}  "
                f"({_count(entry['numerator'])}/{_count(entry['denominator'])})")
    extra = "".join(f"  {k} {v:,}" for k, v in entry.items() if k in ("open", "unpriced", "won"))
    return f"{str(entry['key'])[:44]:<44} {_fmt(entry['value'], '%' if unit == '%' else unit):>18}{extra}"


def render(result: dict[str, Any]) -> str:
    """The KPIs as text: number, counts, definition, then each breakdown."""
    lines = [f"KPIs as of {result['as_of']} (period {result['period']['from']} … {result['period']['to']}), "
             f"scope: {result['scope']}", ""]
    for kpi in result["kpis"]:
        counts = (f" ({_count(kpi['numerator'])} / {_count(kpi['denominator'])})"
                  if kpi["unit"] == "%" and kpi["denominator"] else "")
        lines.append(f"{kpi['name']}: {_fmt(kpi['value'], kpi['unit'])}{counts}")
        lines += textwrap.wrap(f"Definition: {kpi['definition']}", WIDTH, initial_indent="  ", subsequent_indent="    ")
        if kpi.get("note"):
            lines.append(f"  Note: {kpi['note']}")
        for dim, entries in kpi["by"].items():
            if entries:
                lines.append(f"  by {dim.replace('_', ' ')}:")
                lines += [f"    {_entry(e, kpi['unit'])}" for e in entries]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `kpis` to the sdi command."""

    @app.command("kpis")
    def kpis(
        as_of: Annotated[Optional[str], typer.Option(
            "--as-of", help="Reference date YYYY-MM-DD (default: the data's as_of).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Coverage, renewal rate, win rate, pipeline, lead turnaround, revenue and plan vs actual, each defined."""
        from sdi.config import get_settings
        from sdi.loop.kpis import compute

        settings = get_settings()
        with open_db(settings) as db:
            result = compute(db, parse_date(as_of, "--as-of") or db.data_as_of(), plan=settings.kpi_plan)
        if as_json:
            print_json(result)
        else:
            sys.stdout.write(render(result))
