"""What the commands share: option types and values, JSON output, the machine file under SDI_HOME."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sdi.errors import SdiError

if TYPE_CHECKING:
    from sdi.config import Settings
    from sdi.store import MachineFile

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]


def print_json(data: Any) -> None:
    """Write data as indented JSON to stdout (dates and other values as strings)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def open_db(settings: Settings | None = None) -> MachineFile:
    """Open the machine file under SDI_HOME (the settings' threads and memory limit); while `sdi serve` holds it,
    a read-only snapshot the server writes now (sdi.cli.remote), so reading commands work beside the server."""
    from sdi.cli.remote import open_for_read
    from sdi.config import get_settings

    return open_for_read(settings or get_settings())


def parse_date(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date (None stays None); a clear error names the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SdiError(f"{option} {value!r} is not a date", f"use YYYY-MM-DD, e.g. {option} 2026-01-04") from exc
