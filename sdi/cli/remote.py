"""Commands beside a running `sdi serve`: writing jobs go through its admin API, reading ones use a snapshot.

DuckDB lets one process open the machine file while it may write, and then no other process, not even read-only.
`sdi serve` keeps it open, so a command finds the server through SDI_HOME/server.json (sdi.api.local_cli), checks
that the process lives and answers, and acts as the server's local admin user.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from sdi.api.local_cli import LOCAL_ADMIN, ServerInfo, pid_alive, read_server_file, server_file
from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.store.machine_file import MachineFileBusy

if TYPE_CHECKING:
    from connectors.ingest import IngestReport
    from sdi.access.users import User
    from sdi.config import Settings
    from sdi.triggers.service import StageResult

STARTING_GRACE = 60.0  # seconds a server that wrote its file may take to answer (its start-up work, then it binds)


def describe_process(pid: int) -> str:
    """`process 42 (sdi ingest m.yaml)`: what a pid runs, as far as this user may see it."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(" ".join(a.decode(errors="replace").split()) for a in args if a)
    except OSError:
        command = ""
    command = command if len(command) <= 120 else command[:117] + "..."
    return f"process {pid} ({command})" if command else f"process {pid}"


class Server:
    """A running `sdi serve` of this home, reached with its local admin token."""

    def __init__(self, info: ServerInfo) -> None:
        self.info = info

    def label(self) -> str:
        """How messages name it."""
        return f"`sdi serve` (pid {self.info.pid}, {self.info.url})"

    def request(self, method: str, path: str, body: Any = None, timeout: float | None = 30.0) -> Any:
        """One API call as the local admin; a refusal becomes the server's message and hint."""
        import httpx

        try:
            response = httpx.request(method, self.info.url + path, json=body, timeout=timeout,
                                     headers={"Authorization": f"Bearer {self.info.token}"})
        except httpx.HTTPError as exc:
            raise SdiError(f"lost {self.label()} during {method} {path}: {exc}",
                           "check that the server still runs (its log), then run the command again") from exc
        if response.status_code == 401:
            raise SdiError(f"{self.label()} did not accept its local admin token",
                           f"the user {LOCAL_ADMIN} was removed; restart sdi serve to issue a new one")
        if response.status_code >= 400:
            raise _refusal(response)
        return response.json()

    def wait_until_answering(self) -> None:
        """Return once the server answers as the local admin (it writes its file just before it binds the port)."""
        import httpx

        deadline = time.monotonic() + STARTING_GRACE
        announced = False
        while True:
            try:
                me = self.request("GET", "/api/me", timeout=10)
                break
            except SdiError as exc:
                if not isinstance(exc.__cause__, httpx.TransportError):
                    raise
                if time.monotonic() > deadline or not pid_alive(self.info.pid):
                    raise SdiError(f"{self.label()} holds the machine file but does not answer",
                                   f"wait until it has started (it prints its URL), or stop it: kill {self.info.pid}"
                                   ) from exc
            if not announced:
                typer.echo(f"waiting for {self.label()} to answer…", err=True)
                announced = True
            time.sleep(0.3)
        if me.get("name") != self.info.user:
            raise SdiError(f"{self.label()} answers as {me.get('name')!r}, not as {self.info.user!r}",
                           "another program may use the port; stop it and restart sdi serve")

    def snapshot(self, settings: Settings) -> MachineFile:
        """A consistent read-only copy of the machine file, written by the server now."""
        out = self.request("POST", "/api/admin/snapshot", timeout=None)
        db = MachineFile.for_settings(settings, read_only=True, path=Path(out["path"]))
        taken = datetime.fromisoformat(out["taken_at"].rstrip("Z"))
        typer.echo(f"note: {self.label()} holds the machine file; reading a snapshot of it as of "
                   f"{taken:%Y-%m-%d %H:%M:%S} UTC{' (nothing written since)' if out.get('unchanged_since') else ''}",
                   err=True)
        return db

    def ingest(self, mapping: Path) -> IngestReport:
        """Import through the server (the path sent absolute: the server reads the files); detection is not re-run."""
        from connectors.mapping import load_mapping

        load_mapping(mapping)  # a bad mapping fails here with the same message as without the server
        typer.echo(f"importing through {self.label()}…", err=True)
        out = self.request("POST", "/api/admin/ingest", {"mapping": str(mapping.resolve()), "run_triggers": False},
                           timeout=None)
        report = out["report"]
        if report.get("mapping") == str(mapping.resolve()):
            report["mapping"] = str(mapping)
        return ingest_report(report)

    def triggers(self, settings: Settings, as_of: date | None, store: bool | None) -> StageResult:
        """Detection as `sdi triggers` runs it: stored through the server, or point-in-time on a snapshot."""
        from sdi.triggers.opportunities import SyncCounts
        from sdi.triggers.service import StageResult

        if as_of is not None or store is False:
            with self.snapshot(settings) as snap:
                current = snap.data_as_of()
                day = as_of or current
                if not ((day == current) if store is None else store):
                    typer.echo("note: a point-in-time run on a snapshot is not recorded in the trigger runs", err=True)
                    run, rules = _detect(snap, settings, day)
                    return StageResult(run, None, rules)
            if day != current:
                raise SdiError(f"a stored run at {day} (the data is as of {current}) cannot go through {self.label()}",
                               "it stores runs at the data's own date; stop the server for this one, or leave out "
                               "--store to see the run")
        out = self.request("POST", "/api/admin/triggers", timeout=None)
        with self.snapshot(settings) as snap:
            run, rules = _detect(snap, settings, date.fromisoformat(out["as_of"]))
        if json.loads(json.dumps(run.counts())) != out["counts"]:
            typer.echo("note: the data changed right after the server's run; the listing below is from a moment later",
                       err=True)
        sync = out.get("opportunities")
        return StageResult(run, SyncCounts(**sync) if sync else None, rules)

    def add_user(self, name: str, role: str, territory: str | None, serials: list[str]) -> tuple[User, str]:
        """Create a user through the server; returns it and its token."""
        from sdi.access.policy import check_role_fields
        from sdi.access.users import NAME_PATTERN, User

        # the checks that need no data, with the same messages as without the server (which checks the rest)
        if not NAME_PATTERN.match(name or "") or name != name.strip():
            raise SdiError(f"invalid user name {name!r}",
                           "use 1-80 printable characters without leading/trailing spaces")
        check_role_fields(role, territory, serials)
        out = self.request("POST", "/api/users", {"name": name, "role": role, "territory": territory,
                                                  "serials": serials})
        return User(out["name"], out["role"], out.get("territory"), frozenset(out.get("serials") or ()),
                    out.get("created_at")), out["token"]

    def remove_user(self, name: str) -> None:
        """Remove a user through the server."""
        from urllib.parse import quote

        if name == self.info.user:
            raise SdiError(f"{name!r} is the user `sdi serve` lends to these commands", "it goes when the server stops")
        try:
            self.request("DELETE", f"/api/users/{quote(name, safe='')}")
        except SdiError as exc:
            if "not found" in exc.message:
                raise SdiError(f"no user {name!r}", "list them with: sdi users list") from exc
            raise


def _detect(db: MachineFile, settings: Settings, day: date) -> tuple[Any, Any]:
    from sdi.triggers.engine import detect
    from sdi.triggers.rules import load_rules

    rules = load_rules(settings.home)
    return detect(db, rules, day), rules


def _refusal(response: Any) -> SdiError:
    """The server's refusal as an SdiError (its detail and hint)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # request validation: [{"loc": [...], "msg": ...}]
        detail = "; ".join(f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail)
    return SdiError(str(detail or f"the server answered {response.status_code}"),
                    body.get("hint") if isinstance(body, dict) else None)


def ingest_report(data: dict[str, Any]) -> IngestReport:
    """An IngestReport back from its JSON form (to print it exactly as a direct import does)."""
    from connectors.ingest import FileReport, IngestReport, Rejection

    def build(cls: Any, values: dict[str, Any]) -> Any:
        return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values})

    files = [build(FileReport, f | {"rejections": [build(Rejection, r) for r in f.get("rejections", [])]})
             for f in data["files"]]
    return build(IngestReport, data | {"files": files})


def find_server(settings: Settings, busy: MachineFileBusy) -> Server:
    """The running server of this home that holds the machine file; else an error saying what holds it."""
    info = read_server_file(settings.home)
    holder = describe_process(busy.pid)
    advice = (f"another SDI process may hold it open (a command still running: an import, an index) or a program "
              f"such as the duckdb shell: wait for it to end or stop it (kill {busy.pid})")
    if info is None:
        raise SdiError(f"the machine file {busy.path} is held open by {holder}, which is not a running `sdi serve` "
                       f"of this home (there is no {server_file(settings.home)})", advice) from busy
    if not pid_alive(info.pid):
        server_file(settings.home).unlink(missing_ok=True)
        raise SdiError(f"the machine file {busy.path} is held open by {holder}; the server file named pid "
                       f"{info.pid}, which has ended (stale file, removed)", advice) from busy
    if info.pid != busy.pid:
        raise SdiError(f"the machine file {busy.path} is held open by {holder}, but the server file names "
                       f"`sdi serve` pid {info.pid}", advice) from busy
    server = Server(info)
    server.wait_until_answering()
    return server


def busy_error(busy: MachineFileBusy) -> SdiError:
    """What to tell a command that needs the machine file itself (not a snapshot) while another process holds it."""
    from sdi.config import get_settings

    try:
        server = find_server(get_settings(), busy)
    except SdiError as exc:
        return exc
    return SdiError(f"{server.label()} holds the machine file, and this command needs the file itself",
                    "stop the server for it, or do it in the app")


def open_for_write(settings: Settings) -> MachineFile | Server:
    """The machine file opened for writing, or the running server that holds it (then the job goes through it)."""
    try:
        return MachineFile.for_settings(settings)
    except MachineFileBusy as busy:
        return find_server(settings, busy)


def open_for_read(settings: Settings) -> MachineFile:
    """The machine file, or a snapshot of it from the running server that holds it."""
    target = open_for_write(settings)
    return target.snapshot(settings) if isinstance(target, Server) else target
