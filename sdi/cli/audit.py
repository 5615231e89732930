"""`sdi audit list|show|verify|export|repair`, `sdi backup` and `sdi restore`: thin wrappers over the services."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from sdi.errors import SdiError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _log() -> Any:
    from sdi.audit.log import AuditLog
    from sdi.config import get_settings

    return AuditLog(get_settings().home)


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(entry: dict[str, Any]) -> str:
    """One line saying what an entry records."""
    from sdi.audit.log import cited

    p = entry.get("payload") if isinstance(entry.get("payload"), dict) else {}
    kind = entry.get("kind")
    if kind == "draft" or "rendered_prompt" in p:
        subject = p.get("subject") or {}
        what = subject.get("opportunity_id") or subject.get("serial") or ""
        prompt = p.get("prompt") or {}
        return (f"{p.get('kind', 'draft')} {what} · {len(cited(p))} sources · "
                f"prompt {prompt.get('name', '?')} v{prompt.get('version', '?')}").strip()
    if kind == "backup":
        return f"{p.get('out')} · {p.get('files')} files · sha256 {str(p.get('sha256'))[:12]}"
    if kind == "restore":
        return f"from {p.get('archive')} · previous home {p.get('previous_home') or '-'}"
    if kind == "repair":
        return f"{p.get('bytes')} torn bytes after {p.get('after')} removed (kept as {p.get('kept_as')})"
    scalars = [(k, v) for k, v in p.items() if not isinstance(v, (dict, list))][:3]
    return " · ".join(f"{k}={_short(v, 30)}" for k, v in scalars)


def render_list(items: list[dict[str, Any]]) -> str:
    """The text listing of entries, newest first."""
    if not items:
        return "no audit entries"
    return "\n".join(
        f"{e.get('id')}  {e.get('ts')}  {str(e.get('kind')):<12} {str(e.get('user') or '-'):<16} {summary(e)}" for e in items
    )


def _entry_id(value: str) -> str:
    from sdi.audit.log import entry_id

    return entry_id(int(value)) if value.isdigit() else value


def _show_prompt(entry: dict[str, Any], as_json: bool) -> None:
    from sdi.audit.log import prompt_sha256, prompt_text

    payload = entry.get("payload") or {}
    rendered = payload.get("rendered_prompt")
    if rendered is None:
        raise SdiError(f"{entry['id']} ({entry.get('kind')}) records no rendered prompt", "only draft entries carry one")
    if as_json:
        _print_json(rendered)
    else:
        text = prompt_text(rendered)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    expected = payload.get("rendered_prompt_sha256")
    actual = prompt_sha256(rendered)
    prompt = payload.get("prompt") or {}
    label = f"prompt {prompt.get('name', '?')} v{prompt.get('version', '?')}"
    if not expected:
        typer.echo(f"{label}: sha256 {actual} (the entry records no rendered_prompt_sha256 to compare)", err=True)
    elif expected == actual:
        typer.echo(f"{label}: sha256 {actual} matches rendered_prompt_sha256", err=True)
    else:
        typer.echo(f"{label}: sha256 {actual} DIFFERS from rendered_prompt_sha256 {expected}", err=True)
        raise typer.Exit(1)


def _verify_text(result: Any, what: str) -> str:
    if result.ok:
        text = f"{what} intact: {result.entries:,} entries; chain, hashes and head anchor verified"
        return text + (f"\nnote: {result.note}" if result.note else "")
    return f"{what} BROKEN at {result.first_bad}: {result.reason}\n  ({result.entries:,} entries read before the break)"


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `audit …`, `backup` and `restore` to the sdi command (and make this process's new files owner-only)."""
    from sdi.store.files import private_umask

    private_umask()  # every sdi command registers its stages at start-up: data at rest is owner-only from here on
    audit_app = typer.Typer(help="The audit log: every draft, run, import and human action, hash-chained.",
                            no_args_is_help=True)
    app.add_typer(audit_app, name="audit")

    @audit_app.command("list")
    def list_cmd(
        kind: Annotated[Optional[str], typer.Option(help="Only entries of this kind (draft, backup, restore, repair, …).")] = None,
        limit: Annotated[int, typer.Option(help="Newest N entries (0 = all).")] = 50,
        as_json: JsonOpt = False,
    ) -> None:
        """List audit entries, newest first."""
        items = _log().list(kind, limit or None)
        _print_json(items) if as_json else typer.echo(render_list(items))

    @audit_app.command("show")
    def show_cmd(
        entry: Annotated[str, typer.Argument(help="Entry id (A-0000012, or just 12).")],
        as_json: JsonOpt = False,
        prompt: Annotated[bool, typer.Option("--prompt", help="Print the exact prompt the draft sent (and check its sha256).")] = False,
    ) -> None:
        """One audit entry in full."""
        ident = _entry_id(entry)
        found = _log().get(ident)
        if found is None:
            raise SdiError(f"no audit entry {ident}", "list them with: sdi audit list")
        if prompt:
            _show_prompt(found, as_json)
        elif as_json:
            _print_json(found)
        else:
            typer.echo(f"{found['id']}  {found.get('ts')}  kind {found.get('kind')}  user {found.get('user') or '-'}")
            typer.echo(f"hash {found.get('hash')}\nprev {found.get('prev')}")
            typer.echo(json.dumps(found.get("payload"), indent=2, ensure_ascii=False, default=str))

    @audit_app.command("recheck")
    def recheck_cmd(
        entry: Annotated[str, typer.Argument(help="Entry id of a draft (A-0000012, or just 12).")],
        as_json: JsonOpt = False,
    ) -> None:
        """Re-run today's claim check on a recorded draft; exit 1 when a sentence no longer passes."""
        from sdi.drafting.recheck import recheck

        ident = _entry_id(entry)
        found = _log().get(ident)
        if found is None:
            raise SdiError(f"no audit entry {ident}", "list them with: sdi audit list --kind draft")
        result = recheck(found)
        if as_json:
            _print_json(result)
        else:
            for row in result["sentences"]:
                mark = "ok  " if row["ok"] else "FAIL"
                typer.echo(f"{mark} {row['origin']:<8} {row['text']}" + ("" if row["ok"] else f"\n     -> {row['reason']}"))
            typer.echo(f"{result['checked']} sentence(s) rechecked with today's check, {result['failed']} failed "
                       f"({result['model_sentences']} model sentence(s))")
        if result["failed"]:
            raise typer.Exit(1)

    @audit_app.command("verify")
    def verify_cmd(
        bundle: Annotated[Optional[Path], typer.Option(help="Check an exported bundle folder instead of this home's log.")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Re-walk the hash chain (and head anchor); exit 1 naming the first broken entry."""
        if bundle is not None:
            from sdi.audit.bundle import verify_bundle

            check = verify_bundle(bundle)
            if as_json:
                _print_json(check.to_dict())
            else:
                typer.echo(_verify_text(check.chain, f"bundle {bundle}"))
                typer.echo(f"  {check.files} files match the manifest; {check.sources} cited source texts match their sha256")
                for problem in check.problems:
                    typer.echo(f"  PROBLEM {problem}")
            if not check.ok:
                raise typer.Exit(1)
            return
        log = _log()
        result = log.verify()
        if as_json:
            _print_json({"log": str(log.path), "ok": result.ok, "entries": result.entries, "first_bad": result.first_bad,
                         "reason": result.reason, "note": result.note})
        else:
            typer.echo(_verify_text(result, f"audit log {log.path}"))
        if not result.ok:
            raise typer.Exit(1)

    @audit_app.command("export")
    def export_cmd(
        out: Annotated[Path, typer.Option("--out", help="New (or empty) folder for the bundle.")],
        since: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Only entries from this day (UTC) on.")] = None,
        until: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Only entries up to this day (UTC).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Write a self-contained bundle (log, head, cited source texts, manifest) a reviewer can verify anywhere."""
        from sdi.audit.bundle import export_recorded

        manifest, warnings = export_recorded(_log(), out, since=since.date() if since else None,
                                             until=until.date() if until else None)
        if as_json:
            _print_json({**manifest, "warnings": warnings})
        else:
            typer.echo(f"exported {manifest['entries']:,} entries and {manifest['sources']:,} cited source texts to {out}"
                       f"\n  check it anywhere with: sdi audit verify --bundle {out}   (or: cd {out} && sha256sum -c SHA256SUMS)")
            for warning in warnings:
                typer.echo(f"  WARNING {warning}")

    @audit_app.command("repair")
    def repair_cmd() -> None:
        """Cut a crash-torn final line (kept in audit/torn/, recorded as a `repair` entry); other damage is refused."""
        entry = _log().repair()
        if entry is None:
            typer.echo("nothing to repair: the log ends with a complete entry")
        else:
            typer.echo(f"{entry['id']} repair: {summary(entry)}")

    @app.command("backup")
    def backup_cmd(
        out: Annotated[Path, typer.Option("--out", help="The .tar.gz to write (never overwritten).")],
        as_json: JsonOpt = False,
    ) -> None:
        """Back up the whole SDI home (machine file, vector store, audit log, documents, settings) with a manifest."""
        from sdi.audit.backup import create_backup
        from sdi.config import get_settings
        from sdi.progress import Progress

        report = create_backup(get_settings(), out, Progress(quiet=as_json))
        if as_json:
            _print_json(report.to_dict())
            raise typer.Exit(1 if report.warnings else 0)
        rows = sum(report.tables.values())
        typer.echo(f"backup written: {report.out} ({report.bytes:,} bytes, sha256 {report.sha256})")
        typer.echo(f"  {report.files} files · {len(report.tables)} tables, {rows:,} rows · "
                   f"audit log {report.audit_entries} entries (head {(report.audit_head or {}).get('last_id', '-')})")
        for name in report.skipped:
            typer.echo(f"  skipped (not a regular file): {name}")
        for warning in report.warnings:
            typer.echo(f"  WARNING {warning}")
        if report.audit_id:
            typer.echo(f"  recorded as audit entry {report.audit_id}")
        if report.warnings:
            raise typer.Exit(1)  # the archive is written, but someone must look at the audit log

    @app.command("restore")
    def restore_cmd(
        archive: Annotated[Path, typer.Argument(help="A .tar.gz written by sdi backup.")],
        home: Annotated[Optional[Path], typer.Option(help="Restore into this folder (default: SDI_HOME).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace a non-empty home (it is kept aside, not deleted).")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Restore a backup: verify every file hash, row counts per table and the audit chain, then put it in place."""
        from sdi.audit.backup import restore_backup
        from sdi.config import get_settings
        from sdi.progress import Progress

        settings = get_settings()
        report = restore_backup(settings, archive, home or settings.home, force, Progress(quiet=as_json))
        if as_json:
            _print_json(report.to_dict())
        else:
            typer.echo(f"consistency check of {archive} (backup of {report.source_home}, made {report.created}):")
            for c in report.checks:
                typer.echo(f"  {'ok  ' if c.ok else 'FAIL'} {c.name:<24} expected {c.expected:<28} found {c.actual}")
            if report.restored:
                typer.echo(f"restored into {report.home}" + (f" (previous home kept in {report.previous_home})" if report.previous_home else ""))
                typer.echo(f"  recorded as audit entry {report.audit_id}")
            else:
                typer.echo(f"NOT restored: the backup differs from its manifest; {report.home} was not touched")
        if not report.ok:
            raise typer.Exit(1)
