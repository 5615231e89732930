"""The `sdi` command: thin wrappers that parse options, call a service and print its result."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from sdi.config import Settings, get_settings
from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.progress import Progress
from sdi.cli import audit as audit_cli
from sdi.cli.options import JsonOpt, open_db, parse_date
from sdi.cli.remote import Server, open_for_write
from sdi.cli.options import print_json as _print_json
from sdi.cli import retrieval as retrieval_cli
from sdi.cli import serve as serve_cli
from sdi.cli import models as models_cli
from sdi.cli import check as check_cli
from sdi.cli import backtest as backtest_cli
from sdi.cli import rules as rules_cli
from sdi.cli import crm as crm_cli
from sdi.cli import webhooks as webhooks_cli
from sdi.cli import kpis as kpis_cli
from sdi.cli import performance as performance_cli

app = typer.Typer(
    help="SDI — Service Decision Intelligence: find the machines in your installed base that need service now.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks: each prints its figures next to a baseline run in the same process.")
app.add_typer(bench_app, name="bench")

AsOfOpt = Annotated[
    Optional[str], typer.Option("--as-of", help="Reference date YYYY-MM-DD (default: the data's as_of, else today).")
]


def _settings() -> Settings:
    return get_settings()


def _as_of(value: str | None, db: MachineFile) -> date:
    return parse_date(value, "--as-of") or db.data_as_of()


@app.command()
def ingest(
    mapping: Annotated[Path, typer.Argument(help="Mapping YAML naming the export files and their columns.")],
    as_json: JsonOpt = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any row was rejected.")] = False,
    show: Annotated[int, typer.Option(help="Rejected rows listed per file in the text report.")] = 20,
) -> None:
    """Import export files (CSV, Parquet, JSON, XLSX) into the machine file through a mapping."""
    from connectors.ingest import ingest as run_ingest
    from connectors.report import render_ingest

    settings = _settings()
    target = open_for_write(settings)
    if isinstance(target, Server):  # `sdi serve` holds the file: it imports (and audits) as its local admin
        report = target.ingest(mapping)
    else:
        with target as db:
            report = run_ingest(db, mapping, batch_rows=settings.ingest_batch_rows, progress=Progress(quiet=as_json))
        from sdi.audit.log import AuditLog

        AuditLog(settings.home).append("ingest", report.audit_payload(), user="cli")
    if as_json:
        _print_json(report.to_dict())
    else:
        typer.echo(render_ingest(report, show))
    if strict and any(f.rows_rejected for f in report.files):
        raise typer.Exit(1)


@app.command()
def demo(
    machines: Annotated[Optional[int], typer.Option(help="Machines in the installed base (default 8,000).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed: same seed, same files.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="The demo's reference date (YYYY-MM-DD).")] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the app at the end.")] = True,
    outcomes: Annotated[bool, typer.Option("--outcomes/--no-outcomes",
                                           help="Simulate the past year's outcomes and technician leads.")] = True,
) -> None:
    """Generate a realistic demo installed base, import it like a customer would, and assess it."""
    from sdi.demo.run import run_demo

    settings = _settings()
    run_demo(
        settings,
        machines=machines or settings.demo_machines,
        seed=settings.demo_seed if seed is None else seed,
        as_of=date.fromisoformat(as_of) if as_of else None,
        serve=serve,
        history=outcomes,
    )


@app.command()
def assess(as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Installed-base assessment: data gaps and campaign readiness per model and territory."""
    from sdi.triggers.assess import assess as run_assess
    from sdi.triggers.assess import render
    from sdi.triggers.rules import load_rules

    settings = _settings()
    with open_db(settings) as db:
        result = run_assess(db, load_rules(settings.home), _as_of(as_of, db))
    _print_json(result) if as_json else typer.echo(render(result))


def _note_new_rules(settings: Settings) -> None:
    """Say on stderr which shipped rules an older SDI_HOME/rules.yaml has no entry for (they run as shipped)."""
    from sdi.triggers.rules import load_rules

    added = load_rules(settings.home).added_from_shipped
    if added:
        typer.echo(f"note: {settings.home / 'rules.yaml'} has no entry for {', '.join(added)} (new in this version): "
                   "it runs as sdi/rules.yaml ships it; copy its entry into your file to change it", err=True)


@app.command()
def triggers(
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    store: Annotated[
        Optional[bool],
        typer.Option("--store/--no-store", help="Sync opportunities (default: only when as-of is the data's own date)."),
    ] = None,
    suppressed: Annotated[
        bool, typer.Option("--suppressed", help="List the triggers held back (resolved or covered) and the record that did it."),
    ] = False,
) -> None:
    """Detect service-sales triggers over the whole base (point-in-time with --as-of)."""
    from sdi.triggers.render import render_run, render_suppressed
    from sdi.triggers.service import run_triggers

    settings = _settings()
    target = open_for_write(settings)
    if isinstance(target, Server):  # `sdi serve` holds the file: it stores the run, a snapshot shows it
        result = target.triggers(settings, parse_date(as_of, "--as-of"), store)
    else:
        with target as db:
            result = run_triggers(db, settings.home, _as_of(as_of, db), store)
    _note_new_rules(settings)
    if as_json and suppressed:
        _print_json([t.to_dict() for t in result.run.suppressed])
    elif as_json:
        sys.stdout.write(result.run.to_json())
    else:
        typer.echo(render_suppressed(result) if suppressed else render_run(result))


@app.command()
def opportunities(
    territory: Annotated[Optional[str], typer.Option(help="Only this territory.")] = None,
    owner: Annotated[Optional[str], typer.Option(help="Only this owner (sales rep or technician name).")] = None,
    include_closed: Annotated[bool, typer.Option("--all", help="Include resolved, won, lost and dismissed.")] = False,
    limit: Annotated[int, typer.Option(help="Rows in the text listing (JSON lists all).")] = 30,
    as_json: JsonOpt = False,
    channel: Annotated[Optional[str], typer.Option(
        help="Only this channel: field_visit, email_sequence, or scheduling (the service team's tasks for machines "
             "under contract, left out of the sales pipeline by default).")] = None,
) -> None:
    """List opportunities, best first (runs detection first if it never ran)."""
    from sdi.triggers.opportunities import list_opportunities
    from sdi.triggers.render import render_opportunities
    from sdi.triggers.service import ensure_opportunities

    settings = _settings()
    with open_db(settings) as db:
        ensure_opportunities(db, settings.home)
        items = list_opportunities(db, territory, owner, include_closed, channel)
    if as_json:
        _print_json(items)
    else:
        typer.echo(render_opportunities(items, limit))


def _draft_service(settings: Settings, db: MachineFile) -> Any:
    from sdi.drafting.service import DraftService
    from sdi.triggers.service import ensure_opportunities

    ensure_opportunities(db, settings.home)
    return DraftService(settings, db)


def _show_draft(draft: Any, as_json: bool) -> None:
    from sdi.drafting.render import render_draft

    if as_json:
        _print_json(draft.to_dict())
    else:
        typer.echo(render_draft(draft))


@app.command()
def why(opportunity_id: Annotated[str, typer.Argument(help="Opportunity id (see sdi opportunities).")], as_json: JsonOpt = False) -> None:
    """Why this opportunity, now: the recommendation and its reasons, every sentence cited."""
    settings = _settings()
    with open_db(settings) as db:
        _show_draft(_draft_service(settings, db).why(opportunity_id, user="cli"), as_json)


@app.command()
def ask(
    opportunity_id: Annotated[str, typer.Argument(help="Opportunity id.")],
    question: Annotated[str, typer.Argument(help="The rep's question.")],
    conversation: Annotated[Optional[str], typer.Option(help="Continue this conversation id (printed by the last answer).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A grounded answer to a follow-up question; says so when the records don't answer it."""
    settings = _settings()
    with open_db(settings) as db:
        _show_draft(_draft_service(settings, db).ask(opportunity_id, question, conversation, user="cli"), as_json)


@app.command()
def brief(serial: Annotated[str, typer.Argument(help="Machine serial number.")], as_json: JsonOpt = False) -> None:
    """A technician's pre-visit briefing: summary, triggers, history, checks, talking points, sign-up sheet."""
    settings = _settings()
    with open_db(settings) as db:
        _show_draft(_draft_service(settings, db).brief(serial, user="cli"), as_json)


@app.command("talking-points")
def talking_points(
    opportunity_id: Annotated[str, typer.Argument(help="Opportunity id.")],
    channel: Annotated[str, typer.Option(help="email or call.")] = "email",
    as_json: JsonOpt = False,
) -> None:
    """Customer-facing talking points for an e-mail or a call, in an advisor's voice."""
    settings = _settings()
    with open_db(settings) as db:
        _show_draft(_draft_service(settings, db).talking_points(opportunity_id, channel, user="cli"), as_json)


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Rows per entity in the machine file, and where it lives."""
    settings = _settings()
    with open_db(settings) as db:
        counts = db.counts()
        data = {"home": str(settings.home.resolve()), "db": str(settings.db_path), "as_of": str(db.data_as_of()),
                "schema_version": db.schema_version(), "rows": counts}
    if as_json:
        _print_json(data)
        return
    typer.echo(f"SDI home: {data['home']}\nmachine file: {data['db']} (data as of {data['as_of']})")
    for name, n in counts.items():
        typer.echo(f"  {name:<15} {n:>12,}")


@bench_app.command("ingest")
def bench_ingest(
    sizes: Annotated[str, typer.Option(help="Comma-separated machine counts.")] = "8000,100000",
    seed: Annotated[int, typer.Option(help="Demo seed.")] = 42,
    workdir: Annotated[Optional[Path], typer.Option(help="Scratch folder (default: SDI_HOME/bench).")] = None,
    repeat: Annotated[int, typer.Option(help="Runs of each side per size; the ratio is of the medians.")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Import rows/s at each size, next to a bare DuckDB read_csv of the same files (ratio = sdi ÷ bare)."""
    from sdi.bench.ingest import run

    settings = _settings()
    results = run([int(s) for s in sizes.split(",") if s.strip()], seed, workdir or settings.home / "bench", settings, as_json,
                  repeat)
    if as_json:
        _print_json({"bench": "ingest", "sizes": results})


@bench_app.command("triggers")
def bench_triggers(
    sizes: Annotated[str, typer.Option(help="Comma-separated machine counts.")] = "8000,100000",
    seed: Annotated[int, typer.Option(help="Demo seed.")] = 42,
    workdir: Annotated[Optional[Path], typer.Option(help="Scratch folder (default: SDI_HOME/bench).")] = None,
    loop_sample: Annotated[int, typer.Option(help="Machines the pandas loop is timed on.")] = 200,
) -> None:
    """Full detection next to a bare DuckDB aggregate and a per-machine pandas loop."""
    from sdi.bench.triggers import run

    settings = _settings()
    run([int(s) for s in sizes.split(",") if s.strip()], seed, workdir or settings.home / "bench", loop_sample)


@bench_app.command("llm")
def bench_llm(
    machines: Annotated[int, typer.Option(help="Machines in the bench's demo base.")] = 400,
    samples: Annotated[int, typer.Option(help="Drafts per kind.")] = 5,
    workdir: Annotated[Optional[Path], typer.Option(help="Scratch folder (default: SDI_HOME/bench).")] = None,
) -> None:
    """why and brief with the default model: tokens, time to first token, tokens/s, next to bare llama-cpp-python."""
    from sdi.bench.llm import run

    run(workdir or _settings().home / "bench", machines, samples)


# Each command family registers its own commands (index/search, audit/backup, serve/users).
for _family in (retrieval_cli, audit_cli, serve_cli, models_cli, check_cli, backtest_cli, rules_cli, crm_cli,
                webhooks_cli, performance_cli, kpis_cli):
    _family.register(app, bench_app)


def main() -> None:
    """Console entry point: user errors print a message and exit non-zero, never a traceback."""
    from sdi.cli.remote import busy_error
    from sdi.store.machine_file import MachineFileBusy

    try:
        app()
    except MachineFileBusy as busy:  # a command that cannot work beside `sdi serve`: say what holds the file
        error = busy_error(busy)
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except SdiError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
