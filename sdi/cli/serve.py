"""The app's commands: `sdi serve`, `sdi users add|list|remove`, `sdi bench api` (thin wrappers over services)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from sdi.api.server import serve_app
from sdi.cli.options import open_db
from sdi.cli.remote import Server, find_server, open_for_write
from sdi.config import get_settings
from sdi.errors import SdiError
from sdi.store.machine_file import MachineFileBusy


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add serve, users and bench api to the `sdi` command."""
    users_app = typer.Typer(help="Users and their API tokens (roles: sales_rep, technician, compliance, admin).",
                            no_args_is_help=True)
    app.add_typer(users_app, name="users")

    @app.command()
    def serve(
        host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1 / SDI_HOST).")] = None,
        port: Annotated[Optional[int], typer.Option(help="Port (default 8000 / SDI_PORT).", min=1, max=65535)] = None,
    ) -> None:
        """Serve the SDI app (REST API, docs, web UI) — on 127.0.0.1 unless told otherwise."""
        settings = get_settings()
        try:
            serve_app(settings, host, port)
        except MachineFileBusy as busy:
            running = find_server(settings, busy)  # names what holds the file when it is not a server
            raise SdiError(f"{running.label()} already serves this home", "use that one, or stop it first") from busy

    @users_app.command("add")
    def users_add(
        name: Annotated[str, typer.Argument(help="The person's name, as shown in the app.")],
        role: Annotated[str, typer.Option("--role", help="sales_rep | technician | compliance | admin")],
        territory: Annotated[Optional[str], typer.Option(help="Sales reps: the territory they own.")] = None,
        serial: Annotated[Optional[list[str]], typer.Option("--serial", help="Technicians: an assigned machine (repeat).")] = None,
    ) -> None:
        """Create a user; prints the token (shown once, stored only as a hash) as the last line."""
        from sdi.access.users import add_user

        target = open_for_write(get_settings())
        if isinstance(target, Server):  # `sdi serve` holds the file: it creates the user (audited)
            user, token = target.add_user(name, role, territory, serial or [])
        else:
            with target as db:
                user, token = add_user(db, name, role, territory, serial or [], created_by="cli")
        scope = f", territory {user.territory}" if user.territory else ""
        scope += f", {len(user.serials)} assigned machine(s)" if user.serials else ""
        typer.echo(f"created {user.role} {user.name!r}{scope}\nthe token below is shown once; sign in with it "
                   f"(Authorization: Bearer …, or /ui/?token=…):")
        typer.echo(token)

    @users_app.command("list")
    def users_list() -> None:
        """Users with role, territory and assigned machines (never tokens)."""
        from sdi.access.users import list_users

        with open_db(get_settings()) as db:
            found = list_users(db)
        if not found:
            typer.echo("no users yet — add one with: sdi users add NAME --role admin")
        for u in found:
            extra = u.territory or (f"{len(u.serials)} machine(s)" if u.role == "technician" else "")
            typer.echo(f"{u.name:<28} {u.role:<11} {extra:<16} created {u.created_at or '?'}")

    @users_app.command("remove")
    def users_remove(name: Annotated[str, typer.Argument(help="The user to remove.")]) -> None:
        """Remove a user; their token stops working."""
        from sdi.access.users import remove_user

        target = open_for_write(get_settings())
        if isinstance(target, Server):
            target.remove_user(name)
        else:
            with target as db:
                remove_user(db, name)
        typer.echo(f"removed {name}")

    @bench_app.command("api")
    def bench_api(
        machines: Annotated[int, typer.Option(help="Machines in the scratch demo base.")] = 2000,
        clients: Annotated[int, typer.Option(help="Concurrent clients.", min=1, max=500)] = 50,
        requests: Annotated[int, typer.Option(help="Requests per phase (bounded).", min=10, max=100_000)] = 1500,
        duration: Annotated[float, typer.Option(help="Longest a phase may run, seconds.", min=1, max=3600)] = 60.0,
        why_share: Annotated[float, typer.Option(help="Share of `why` requests in the mixed phase.", min=0, max=1)] = 0.1,
        think: Annotated[float, typer.Option(help="Mean pause per client between requests, s (0: flat out).", min=0, max=60)] = 1.0,
        workdir: Annotated[Optional[Path], typer.Option(help="Scratch folder (default: SDI_HOME/bench).")] = None,
    ) -> None:
        """Loopback load test: list/detail baseline, then list/detail/why with the default model busy."""
        from sdi.bench.api import BenchOptions, run

        settings = get_settings()
        opts: dict[str, Any] = {"machines": machines, "clients": clients, "requests": requests, "duration": duration,
                                "why_share": why_share, "think": think}
        run(settings, BenchOptions(**opts), workdir or settings.home / "bench")
