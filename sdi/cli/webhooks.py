"""`sdi webhooks` commands (issue 13): filled in by the loop work."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add this family's commands to the sdi command (none yet)."""
