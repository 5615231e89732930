"""Option values the commands share."""

from __future__ import annotations

from datetime import date

from sdi.errors import SdiError


def parse_date(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date (None stays None); a clear error names the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SdiError(f"{option} {value!r} is not a date", f"use YYYY-MM-DD, e.g. {option} 2026-01-04") from exc
