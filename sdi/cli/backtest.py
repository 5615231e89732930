"""`sdi backtest` (score every rule on imported history) and `sdi bench backtest` (its timing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sdi.cli.options import JsonOpt, open_db, parse_date, print_json


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `backtest` and `bench backtest` to the sdi command."""

    @app.command("backtest")
    def backtest(
        target_kind: Annotated[str, typer.Option(
            "--target-kind", help="Event kind(s) that count as the target, comma-separated.")] = "failure",
        target: Annotated[str, typer.Option(
            help="event: events of --target-kind; won: an opportunity on the machine recorded as won.")] = "event",
        window: Annotated[int, typer.Option(help="Days after an as-of date in which the target must happen.")] = 14,
        start: Annotated[Optional[str], typer.Option(
            "--from", help="First as-of date (default: 51 steps before --to).")] = None,
        end: Annotated[Optional[str], typer.Option(
            "--to", help="Last as-of date (default: the data's as-of date minus the window).")] = None,
        step: Annotated[int, typer.Option(help="Days between as-of dates.")] = 7,
        as_json: JsonOpt = False,
    ) -> None:
        """Replay past as-of dates (no future data) and score every rule: precision, recall, lift, lead time."""
        from sdi.config import get_settings
        from sdi.triggers.backtest import build_spec, render, run_backtest
        from sdi.triggers.rules import load_rules

        first, last = parse_date(start, "--from"), parse_date(end, "--to")
        settings = get_settings()
        with open_db(settings) as db:
            spec = build_spec(db, target_kind, target, window, first, last, step)
            result = run_backtest(db, load_rules(settings.home), spec)
        if as_json:
            print_json(result.to_dict())
        else:
            typer.echo(render(result))

    @bench_app.command("backtest")
    def bench_backtest(
        sizes: Annotated[str, typer.Option(help="Comma-separated machine counts.")] = "8000",
        seed: Annotated[int, typer.Option(help="Demo seed.")] = 42,
        dates: Annotated[int, typer.Option(help="Weekly as-of dates replayed.")] = 52,
        workdir: Annotated[Optional[Path], typer.Option(help="Scratch folder (default: SDI_HOME/bench).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Back-test time over weekly dates on the demo base, next to one detection run."""
        from sdi.bench.backtest import run
        from sdi.config import get_settings

        folder = workdir or get_settings().home / "bench"
        run([int(s) for s in sizes.split(",") if s.strip()], seed, dates, folder, as_json)
