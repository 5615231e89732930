"""`sdi export crm` (opportunities and campaign steps as Salesforce CSV) and `sdi outcomes import` (results back)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sdi.cli.options import JsonOpt, open_db, parse_date, print_json


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `export crm` and `outcomes import` to the sdi command."""
    export_app = typer.Typer(help="Export SDI's work to other systems.", no_args_is_help=True)
    outcomes_app = typer.Typer(help="Outcomes (won, lost) on opportunities: the feedback loop.", no_args_is_help=True)
    app.add_typer(export_app, name="export")
    app.add_typer(outcomes_app, name="outcomes")

    @export_app.command("crm")
    def export_crm(
        out: Annotated[Path, typer.Option(help="Folder for Opportunity.csv, Task.csv and export.json.")],
        fmt: Annotated[str, typer.Option("--format", help="CRM file format: salesforce.")] = "salesforce",
        since: Annotated[Optional[str], typer.Option(
            help="Only opportunities first seen, last seen, resolved or closed on or after YYYY-MM-DD.")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Write sales opportunities and their campaign steps as Salesforce Bulk API 2.0 / Data Loader CSV (upsert)."""
        from sdi.audit.log import AuditLog
        from sdi.config import get_settings
        from sdi.errors import SdiError
        from sdi.loop.crm import FORMATS, build_export, write_export

        if fmt not in FORMATS:
            raise SdiError(f"unknown CRM format {fmt!r}", f"use one of {', '.join(FORMATS)}")
        first = parse_date(since, "--since")
        settings = get_settings()
        base_url = settings.crm.base_url or f"http://{settings.host}:{settings.port}"
        with open_db(settings) as db:
            export = build_export(db, settings.crm.stages, base_url, first)
        files = write_export(export, out)
        summary = {"format": fmt, "out": str(out.resolve()), "since": first.isoformat() if first else None,
                   "opportunities": len(export.opportunities), "tasks": len(export.tasks), "files": files}
        AuditLog(settings.home).append("export_crm", summary, user="cli")
        if as_json:
            print_json(summary)
            return
        typer.echo(f"Exported {len(export.opportunities):,} opportunities and {len(export.tasks):,} tasks to {out} "
                   "(scheduling tasks for the service team are not sales opportunities and are left out).")
        for f in files:
            typer.echo(f"  {f['file']:<16} {f['rows']:>7,} rows  sha256 {f['sha256']}")

    @outcomes_app.command("import")
    def outcomes_import(
        file: Annotated[Path, typer.Argument(help="CSV exported from the CRM (e.g. a report of closed opportunities).")],
        mapping: Annotated[Path, typer.Option(help="Mapping YAML: columns, values.result, defaults, date_format.")],
        strict: Annotated[bool, typer.Option(help="Exit 1 when any row was rejected.")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Record won/lost outcomes from a CRM export, matched by the SDI opportunity id; re-imports change nothing."""
        from sdi.config import get_settings
        from sdi.errors import SdiError
        from sdi.loop.outcomes_import import import_outcomes, load_mapping

        if not file.is_file():
            raise SdiError(f"no file {file}", "give the CSV exported from the CRM")
        rules = load_mapping(mapping)
        settings = get_settings()
        with open_db(settings) as db:
            report = import_outcomes(db, settings.home, file, rules)
        if as_json:
            print_json(report.to_dict())
        else:
            typer.echo(f"{file}: {report.rows} rows, {len(report.recorded)} outcomes recorded, {report.unchanged} "
                       f"unchanged, {report.skipped} skipped (stage mapped to skip), {len(report.rejected)} rejected")
            for bad in report.rejected:
                typer.echo(f"  {bad['file']}:{bad['line']}: {bad['reason']}")
        if strict and report.rejected:
            raise typer.Exit(1)
