"""How numbers and lists read inside generated sentences (one place, used by every layer)."""

from __future__ import annotations

from typing import Any


def fmt(value: Any) -> str:
    """A value as it reads in a sentence: floats without trailing zeros, lists comma-separated."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return str(value)
