"""Run the app with uvicorn on a checked address, printing the URL and sign-in links; the server file while it runs."""

from __future__ import annotations

import signal
import socket
import threading
from types import FrameType

from sdi.config import Settings
from sdi.errors import SdiError
from sdi.progress import Progress
from sdi.store import MachineFile


def check_port(host: str, port: int) -> None:
    """Fail with a clear message when the address is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SdiError(f"cannot listen on {host}:{port}: {exc.strerror}",
                           "another program uses the port; pick one with --port or SDI_PORT") from exc


class _Terminated(Exception):
    """SIGTERM, raised again by uvicorn once it has stopped gracefully."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises the signal after its shutdown; a default handler would end the process around `finally`
    raise _Terminated()


def serve_app(settings: Settings, host: str | None = None, port: int | None = None, db: MachineFile | None = None,
              logins: list[tuple[str, str, str]] | None = None) -> None:
    """Serve the app until Ctrl+C; prints the URL (and login links for the given (name, role, token) users).

    While it runs, SDI_HOME/server.json lets `sdi` commands of the same home work through it (sdi.api.local_cli),
    and the search index is brought up to date in the background (progress on stderr and at /health).
    """
    import uvicorn

    from sdi.api.app import create_app, login_url
    from sdi.api.local_cli import issue_local_admin, loopback_url, retire_local_admin

    host, port = host or settings.host, port or settings.port
    check_port(host, port)
    own_db = db is None
    db = db or MachineFile.for_settings(settings)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    terminated = False
    try:
        issue_local_admin(db, settings, loopback_url(host, port))  # before the app's start-up work: commands wait
        app = create_app(settings, db, index=Progress())
        base = f"http://{host}:{port}"
        lines = [f"SDI is serving on {base}/  (API docs {base}/docs · health {base}/health) — Ctrl+C stops it"]
        for name, role, token in logins or []:
            lines.append(f"  {role:<11} {name:<22} {login_url(settings, token, host, port)}")
        print("\n".join(lines), flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    except KeyboardInterrupt:
        pass
    except _Terminated:
        terminated = True
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        retire_local_admin(db, settings)
        if own_db:
            db.close()
    if terminated:
        signal.raise_signal(signal.SIGTERM)  # end as uvicorn would have: by the signal, now that the files are gone
