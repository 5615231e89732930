"""Run the app with uvicorn on a checked address, printing the URL and sign-in links."""

from __future__ import annotations

import socket

from sdi.config import Settings
from sdi.errors import SdiError
from sdi.store import MachineFile


def check_port(host: str, port: int) -> None:
    """Fail with a clear message when the address is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SdiError(f"cannot listen on {host}:{port}: {exc.strerror}",
                           "another program uses the port; pick one with --port or SDI_PORT") from exc

def serve_app(settings: Settings, host: str | None = None, port: int | None = None, db: MachineFile | None = None,
              logins: list[tuple[str, str, str]] | None = None) -> None:
    """Serve the app until Ctrl+C; prints the URL (and login links for the given (name, role, token) users)."""
    import uvicorn

    from sdi.api.app import create_app, login_url

    host, port = host or settings.host, port or settings.port
    check_port(host, port)
    app = create_app(settings, db)
    base = f"http://{host}:{port}"
    lines = [f"SDI is serving on {base}/  (API docs {base}/docs · health {base}/health) — Ctrl+C stops it"]
    for name, role, token in logins or []:
        lines.append(f"  {role:<11} {name:<22} {login_url(settings, token, host, port)}")
    print("\n".join(lines), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
