"""The server file: how `sdi` commands find a running `sdi serve` of the same home and its local admin credential.

While `sdi serve` runs it holds the machine file, and DuckDB lets no other process open it (not even read-only).
So the server writes SDI_HOME/server.json (owner-only: URL, pid, the token of a dedicated local admin user it
creates afresh at every start) and removes it at stop; writing commands hand their job to its admin API, reading
commands ask it for a snapshot of the machine file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from sdi.audit.log import AuditLog
from sdi.config import Settings
from sdi.store import MachineFile
from sdi.store.snapshot import forget_snapshot

SERVER_FILE = "server.json"
SNAPSHOT = Path("snapshot") / "machine-file.duckdb"  # under SDI_HOME
LOCAL_ADMIN = "local-cli"  # the user `sdi` commands act as through the server; its actions are audited under it


@dataclass(frozen=True)
class ServerInfo:
    """What the server file says: where the server answers, which process it is, the local admin token."""

    url: str
    pid: int
    user: str
    token: str
    started_at: str


def server_file(home: Path) -> Path:
    """Where the server file of a home lives."""
    return home / SERVER_FILE


def read_server_file(home: Path) -> ServerInfo | None:
    """The server file's content (None if there is none or it is unreadable)."""
    try:
        data = json.loads(server_file(home).read_text(encoding="utf-8"))
        return ServerInfo(str(data["url"]), int(data["pid"]), str(data["user"]), str(data["token"]),
                          str(data["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def loopback_url(host: str, port: int) -> str:
    """The URL a local command reaches the server at (a wildcard bind answers on loopback)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def issue_local_admin(db: MachineFile, settings: Settings, url: str) -> ServerInfo:
    """Create (or rotate) the local admin user, audit it, and write the server file (0600) for this process."""
    from sdi.access.users import add_user

    rotated = bool(db.scalar("SELECT count(*) FROM users WHERE name = ?", [LOCAL_ADMIN]))
    _, token = add_user(db, LOCAL_ADMIN, "admin", created_by="sdi serve", replace=True)
    info = ServerInfo(url, os.getpid(), LOCAL_ADMIN, token,
                      datetime.now(timezone.utc).replace(microsecond=0).isoformat())
    AuditLog(settings.home).append("local_admin_token", {"user": LOCAL_ADMIN, "action": "rotated" if rotated else
                                                         "created", "pid": info.pid, "url": url}, user="sdi serve")
    target = server_file(settings.home)
    scratch = target.with_name(f".{SERVER_FILE}.{info.pid}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(info), out, indent=2)
    os.replace(scratch, target)
    return info


def retire_local_admin(db: MachineFile | None, settings: Settings) -> None:
    """Remove this process's server file and snapshot, and the local admin user (its token stops working)."""
    info = read_server_file(settings.home)
    if info is not None and info.pid == os.getpid():
        server_file(settings.home).unlink(missing_ok=True)
    from sdi.access.users import remove_user

    forget_snapshot(settings.home / SNAPSHOT)
    if db is None:
        return
    try:
        remove_user(db, LOCAL_ADMIN)
    except Exception:  # noqa: BLE001 - at shutdown; the token is unknown once the file is gone and rotates at start
        pass


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0
