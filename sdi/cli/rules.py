"""`sdi rules suggest` (calibrate the rules on the fleet's own history) and `sdi rules apply` (make a rules file the
one SDI_HOME runs, audited)."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from sdi.cli.options import JsonOpt, open_db, parse_date, print_json
from sdi.errors import SdiError


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add the `rules` command group to the sdi command."""
    rules_app = typer.Typer(help="The trigger rules: calibrate them on your history, apply a rules file.",
                            no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @rules_app.command("suggest")
    def suggest(
        train_from: Annotated[str, typer.Option("--train-from", help="First as-of date of the training period.")],
        train_to: Annotated[str, typer.Option("--train-to", help="Last as-of date of the training period; the "
                                              "period after it, to the data's end, validates.")],
        target_kind: Annotated[str, typer.Option(
            "--target-kind", help="Event kind(s) that count as the target, comma-separated.")] = "failure",
        window: Annotated[int, typer.Option(help="Days after an as-of date in which the target must happen.")] = 14,
        step: Annotated[int, typer.Option(help="Days between as-of dates.")] = 7,
        min_alerts: Annotated[int, typer.Option("--min-alerts", help="Alerts a candidate needs on the training "
                                                "period to be considered.")] = 20,
        signals: Annotated[int, typer.Option("--signals", help="Most precursor signals fitted.")] = 3,
        write: Annotated[Optional[Path], typer.Option(
            "--write", help="Write the suggested rules as a complete rules file (nothing is applied).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Search each rule's params and fit a precursor rule on a training period; validate on the period after."""
        from sdi.config import get_settings
        from sdi.triggers.calibrate import periods, render, rules_yaml
        from sdi.triggers.calibrate import suggest as run_suggest
        from sdi.triggers.rules import load_rules

        first, last = parse_date(train_from, "--train-from"), parse_date(train_to, "--train-to")
        assert first is not None and last is not None
        settings = get_settings()
        rules = load_rules(settings.home)
        with open_db(settings) as db:
            train, validation = periods(db, target_kind, window, first, last, step)
            result = run_suggest(db, rules, train, validation, min_alerts, signals)
        if write is not None:
            write.parent.mkdir(parents=True, exist_ok=True)
            write.write_text(rules_yaml(result, rules.path), encoding="utf-8")
        if as_json:
            out = {**result.to_dict(), "written": str(write) if write else None}
            print_json(out)
            return
        typer.echo(render(result))
        if write is not None:
            typer.echo(f"\nWrote {write}: review it, then `sdi rules apply {write}`.")

    @rules_app.command("apply")
    def apply(
        path: Annotated[Path, typer.Argument(help="A complete rules file (e.g. one `sdi rules suggest --write` made).")],
        user: Annotated[str, typer.Option(help="Who applies it (recorded in the audit log).")] = "cli",
    ) -> None:
        """Validate a rules file and make it SDI_HOME/rules.yaml (the previous one is kept beside it); audited."""
        from sdi.audit.log import AuditLog
        from sdi.config import get_settings
        from sdi.triggers.rules import load_rules, parse_rules
        from sdi.triggers.rules.registry import rules_for

        settings = get_settings()
        if not path.is_file():
            raise SdiError(f"no rules file at {path}", "give the path of a rules YAML, e.g. one written by "
                           "`sdi rules suggest --write FILE`")
        text = path.read_text(encoding="utf-8")
        new = parse_rules(text, str(path), rules_for(settings.home))
        old = load_rules(settings.home)
        target = settings.home / "rules.yaml"
        kept = None
        if target.is_file():
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            kept = target.with_name(f"rules.{stamp}.yaml")
            shutil.copy2(target, kept)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        changed = sorted(r for r in new.rules if new.rules[r] != old.rules.get(r))
        AuditLog(settings.home).append("rules_apply", {
            "file": str(path), "version": new.version, "sha256": new.sha256, "previous_version": old.version,
            "previous_sha256": old.sha256, "previous_kept_as": str(kept) if kept else None,
            "rules_changed": changed}, user=user)
        typer.echo(f"Applied {path} as {target} (version {new.version}; rules changed: {', '.join(changed) or 'none'})."
                   + (f" The previous file is kept as {kept}." if kept else "")
                   + " Run `sdi triggers` to use it.")
