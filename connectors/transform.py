"""SQL that turns staged text columns into typed entity fields plus a readable reason for every bad row."""

from __future__ import annotations

import re
from dataclasses import dataclass

from connectors.dates import timestamp_sql
from connectors.mapping import DEFAULT_NA, TEMPLATE_REF, FileMapping
from sdi.models import EntitySpec, FieldSpec, Need
from sdi.store.duck import sql_literal

DECIMAL_COMMA = r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$"
TRUE_WORDS = ("yes", "y", "true", "t", "1", "ja", "j", "x", "wahr", "oui", "si")
FALSE_WORDS = ("no", "n", "false", "f", "0", "nein", "non", "falsch")


lit = sql_literal  # the name every SQL fragment here uses


@dataclass(frozen=True)
class FieldSql:
    """How one canonical field is read, in three steps over the cleaned source columns r<i> (see `cleaned_sql`).

    `raw` is its text from r<i> (template, value map applied); `typed` its value from the column `_raw_<name>`;
    `problem` why a row is bad, from the columns `_raw_<name>` and `<name>` (the typed value)."""

    name: str
    raw: str
    typed: str
    problem: str | None
    gap: bool  # an EXPECTED field: stored when missing, and counted as a data gap
    origin: str  # "column X", "template", "constant"


def quoted_sql(expr: str) -> str:
    """A text expression in single quotes, as reasons show the value they refuse."""
    return f"'''' || {expr} || ''''"


def na_values(fm: FileMapping) -> tuple[str, ...]:
    """Cell texts that mean 'no value' in this file."""
    return tuple(fm.na_values) if fm.na_values is not None else DEFAULT_NA


def trimmed_sql(col: str) -> str:
    """The text without surrounding spaces (trim only where needed: it is DuckDB's slowest step here)."""
    return f"CASE WHEN starts_with({col}, ' ') OR ends_with({col}, ' ') THEN trim({col}) ELSE {col} END"


def cleaned_sql(trimmed: str, na: tuple[str, ...]) -> str:
    """An already trimmed text, NULL when empty or a no-value marker."""
    # An OR chain: DuckDB plans a long IN list as a join, twice as slow here.
    values = dict.fromkeys(("", *na))
    markers = " OR ".join(f"{trimmed} = {lit(v)}" for v in values)
    longest = max(len(v.encode()) for v in values)  # a longer text is no marker: most cells skip the chain
    return f"CASE WHEN strlen({trimmed}) > {longest} THEN {trimmed} WHEN {markers} THEN NULL ELSE {trimmed} END"


def source_positions(fm: FileMapping, index: dict[str, int]) -> list[int]:
    """Positions of the source columns a file mapping reads."""
    return sorted({index[c.strip().lower()] for c in fm.source_columns()})


def _raw(fm: FileMapping, name: str, index: dict[str, int]) -> tuple[str, str]:
    if name in fm.values:
        value = fm.values[name]
        return ("NULL::VARCHAR" if value is None else lit(value)), "constant"
    source = fm.columns[name]
    refs = TEMPLATE_REF.findall(source)
    if not refs:
        return f"r{index[source.strip().lower()]}", f"column {source}"
    parts: list[str] = []
    cleaned = {ref: f"r{index[ref.strip().lower()]}" for ref in refs}
    pos = 0
    for match in TEMPLATE_REF.finditer(source):
        if match.start() > pos:
            parts.append(lit(source[pos : match.start()]))
        parts.append(f"coalesce({cleaned[match.group(1)]}, '')")
        pos = match.end()
    if pos < len(source):
        parts.append(lit(source[pos:]))
    text = f"nullif(trim(concat({', '.join(parts)})), '')"
    if re.search(r"\w", TEMPLATE_REF.sub("", source)):
        return text, "template"  # the template's own words carry meaning even when its columns are empty
    all_null = " AND ".join(f"{c} IS NULL" for c in cleaned.values())
    return f"CASE WHEN {all_null} THEN NULL ELSE {text} END", "template"


def _mapped(raw: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return raw
    whens = " ".join(f"WHEN {lit(src)} THEN {lit(dst)}" for src, dst in mapping.items())
    return f"(CASE {raw} {whens} ELSE {raw} END)"


def number_sql(raw: str) -> str:
    """DOUBLE from text with a decimal point or a decimal comma (1.234,5)."""
    plain = f"try_cast({raw} AS DOUBLE)"  # most cells: COALESCE tries the costlier forms only where this fails
    spaced = f"try_cast(replace({raw}, ' ', '') AS DOUBLE)"
    comma = f"try_cast(replace(replace({raw}, '.', ''), ',', '.') AS DOUBLE)"
    return f"coalesce({plain}, {spaced}, CASE WHEN regexp_matches({raw}, {lit(DECIMAL_COMMA)}) THEN {comma} END)"


def _typed(spec: FieldSpec, raw: str, date_format: str | None, trimmed: bool) -> str:
    if spec.type == "text":
        return f"lower({raw})" if spec.lower else raw
    if spec.type == "float":
        return number_sql(raw)
    if spec.type == "int":
        num = number_sql(raw)
        return f"CASE WHEN {num} = round({num}) THEN CAST({num} AS BIGINT) END"
    if spec.type == "bool":
        return (
            f"CASE WHEN lower({raw}) IN ({', '.join(map(lit, TRUE_WORDS))}) THEN TRUE "
            f"WHEN lower({raw}) IN ({', '.join(map(lit, FALSE_WORDS))}) THEN FALSE END"
        )
    if spec.type == "list":
        return (
            f"list_filter(list_transform(regexp_split_to_array({raw}, '[;,]'), lambda s: trim(s)), "
            f"lambda s: s <> '')"
        )
    stamp = timestamp_sql(raw, date_format, trimmed)
    return f"CAST({stamp} AS DATE)" if spec.type == "date" else stamp


_KIND_WORD = {"float": "a number", "int": "a whole number", "bool": "yes/no", "date": "a date", "timestamp": "a date/time"}


def field_sql(fm: FileMapping, spec: FieldSpec, index: dict[str, int]) -> FieldSql | None:
    """SQL for one field, or None when the mapping does not provide it."""
    if spec.name not in fm.columns and spec.name not in fm.values:
        return None
    raw, origin = _raw(fm, spec.name, index)
    raw = _mapped(raw, fm.value_maps.get(spec.name, {}))
    text, value = f"_raw_{spec.name}", spec.name
    checks: list[str] = []
    where = f" ({origin})"
    if spec.need is Need.REQUIRED:
        checks.append(f"CASE WHEN {text} IS NULL THEN {lit(f'missing required field {spec.name}{where}')} END")
    if spec.type not in ("text", "list"):
        hint = f" (format {fm.date_format})" if fm.date_format and spec.type in ("date", "timestamp") else ""
        checks.append(
            f"CASE WHEN {text} IS NOT NULL AND {value} IS NULL THEN {lit(spec.name + ': ')} || {quoted_sql(text)} || "
            f"{lit(f' is not {_KIND_WORD[spec.type]}{hint}{where}')} END"
        )
    if spec.choices:
        allowed = ", ".join(spec.choices)
        checks.append(
            f"CASE WHEN {value} IS NOT NULL AND {value} NOT IN ({', '.join(map(lit, spec.choices))}) THEN "
            f"{lit(spec.name + ': ')} || {quoted_sql(text)} || {lit(f' is not one of {allowed}{where}')} END"
        )
    problem = f"nullif(concat_ws('; ', {', '.join(checks)}), '')" if checks else None
    # A column's or template's text is trimmed already (see cleaned_sql's callers); a constant or mapped value is
    # as the mapping writes it.
    typed = _typed(spec, text, fm.date_format, origin != "constant" and not fm.value_maps.get(spec.name))
    return FieldSql(spec.name, raw, typed, problem, spec.need is Need.EXPECTED, origin)


def derived_id_sql(spec: EntitySpec, fields: dict[str, FieldSql]) -> str:
    """A content-derived id for exports without one: prefix + hash of the mapped (typed) values + occurrence."""
    parts = ", ".join(f"coalesce(CAST({n} AS VARCHAR), '')" for n in fields if n != spec.id_field)
    digest = f"substr(md5(concat_ws('|', {parts})), 1, 12)"
    occurrence = f"row_number() OVER (PARTITION BY {digest} ORDER BY _line)"
    return f"{lit(spec.id_prefix)} || {digest} || CASE WHEN {occurrence} > 1 THEN '-' || {occurrence} ELSE '' END"
