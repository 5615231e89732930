"""Date parsing for messy exports: one format list, used by SQL (bulk) and Python (single values)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sdi.store.duck import sql_literal

# Order matters only where a value fits two formats; day-first dotted and US slashed forms are distinct.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%y",
    "%m/%d/%Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)

EXCEL_EPOCH = date(1899, 12, 30)
# Excel serials from 1950 to 2100: wide enough for machine data, narrow enough not to read "2024" as a date.
EXCEL_MIN, EXCEL_MAX = 18264, 73415
_TZ_SUFFIX = re.compile(r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(?:Z|[+-]\d\d:?\d\d)$")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


def timestamp_sql(expr: str, fmt: str | None = None, trimmed: bool = False) -> str:
    """SQL giving TIMESTAMP (NULL when unparseable) for a VARCHAR expression in any supported format (`trimmed`:
    the text has no surrounding spaces, so trimming it again is skipped)."""
    if not trimmed:
        expr = f"trim({expr})"
    cleaned = f"regexp_replace({expr}, '(\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?)(Z|[+-]\\d\\d:?\\d\\d)$', '\\1')"
    if fmt:
        return f"try_strptime({expr}, {sql_literal(fmt)})"
    formats = "[" + ", ".join(sql_literal(f) for f in DATE_FORMATS) + "]"
    serial = (
        f"CASE WHEN regexp_full_match({expr}, '\\d{{5}}(\\.\\d+)?') "
        f"AND try_cast({expr} AS DOUBLE) BETWEEN {EXCEL_MIN} AND {EXCEL_MAX} "
        f"THEN TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(try_cast({expr} AS DOUBLE) * 86400e6) AS BIGINT)) END"
    )
    return f"coalesce(try_strptime({cleaned}, {formats}), {serial})"


def parse_datetime(text: str, fmt: str | None = None) -> datetime | None:
    """Parse one value the way timestamp_sql does; None when it fits no format."""
    value = text.strip()
    if not value:
        return None
    if fmt:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            return None
    value = _TZ_SUFFIX.sub(r"\1", value)
    for candidate in DATE_FORMATS:
        try:
            return datetime.strptime(value, candidate)
        except ValueError:
            continue
    if _SERIAL.fullmatch(value) and EXCEL_MIN <= float(value) <= EXCEL_MAX:
        return datetime.combine(EXCEL_EPOCH, datetime.min.time()) + timedelta(days=float(value))
    return None


def parse_date(text: str | date, fmt: str | None = None) -> date | None:
    """Parse one date value (a datetime's day)."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    parsed = parse_datetime(text, fmt)
    return parsed.date() if parsed else None
