"""`sdi ingest`: run a mapping through the readers and transforms into the machine file, accounting for every row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from connectors.mapping import FileMapping, Mapping, load_mapping
from connectors.readers import SourceFile, open_source
from connectors.staging import drop_stage, stage
from connectors.transform import (
    FieldSql, cleaned_sql, derived_id_sql, field_sql, lit, na_values, number_sql, quoted_sql, source_positions,
    trimmed_sql,
)
from sdi.errors import MappingError
from sdi.hashing import sha256_file
from sdi.store import PROVENANCE, MachineFile, stored_columns
from sdi.store.imports import finish_run, log_import, start_run
from sdi.models import ENTITIES, EntitySpec

Progress = Callable[[str], None]
UNKNOWN_SERIAL = "serial IS NOT NULL AND serial NOT IN (SELECT serial FROM machines)"


@dataclass
class Rejection:
    """A row (or, for wide telemetry, one value) that was not stored, and why."""

    file: str
    line: int
    reason: str
    location: str = "line"
    scope: str = "row"
    raw: str = ""


@dataclass
class FileReport:
    """Row accounting for one file: rows_read == rows_stored + rows_rejected."""

    file: str
    entity: str
    sha256: str
    rows_read: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates_merged: int = 0
    values_stored: int = 0
    data_gaps: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """Every row read is either stored or rejected."""
        return self.rows_read == self.rows_stored + self.rows_rejected


@dataclass
class IngestReport:
    """The whole import."""

    mapping: str
    files: list[FileReport]
    run_id: int | None = None

    def audit_payload(self) -> dict[str, Any]:
        """What the audit log keeps of an import: files, hashes, row accounting (not the rejected rows' text)."""
        keys = ("file", "entity", "sha256", "rows_read", "rows_stored", "rows_rejected", "inserted", "updated", "unchanged")
        return {"mapping": self.mapping, "run_id": self.run_id,
                "files": [{k: getattr(f, k) for k in keys} for f in self.files]}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        totals = {k: sum(getattr(f, k) for f in self.files) for k in ("rows_read", "rows_stored", "rows_rejected")}
        return {"mapping": self.mapping, "run_id": self.run_id, "totals": totals, "files": [asdict(f) for f in self.files]}


def _check_columns(fm: FileMapping, source: SourceFile) -> None:
    if not source.header:
        return
    index = source.column_index()
    missing = [c for c in fm.source_columns() if c.strip().lower() not in index]
    if missing:
        raise MappingError(
            f"{fm.path}: column(s) {', '.join(repr(c) for c in missing)} named in the mapping are not in the file",
            f"the file's columns are: {', '.join(source.header)}",
        )


def _open_all(mapping: Mapping, batch_rows: int) -> dict[int, SourceFile]:
    sources: dict[int, SourceFile] = {}
    for pos, fm in mapping.ordered():
        entity = ENTITIES[fm.entity]
        if "age_years" in fm.columns and mapping.as_of is None:
            raise MappingError(f"{fm.path}: age_years needs `as_of:` in the mapping (the date the ages were true)")
        if entity.name == "telemetry" and not fm.metrics and not {"metric", "value"} <= set(fm.columns) | set(fm.values):
            raise MappingError(f"{fm.path}: telemetry needs `metrics:` (wide file) or metric and value columns")
        source = open_source(
            mapping.resolve(fm), batch_rows=batch_rows, delimiter=fm.delimiter, encoding=fm.encoding, sheet=fm.sheet
        )
        _check_columns(fm, source)
        sources[pos] = source
    return sources


def ingest(
    db: MachineFile, mapping_path: Path, *, batch_rows: int = 200_000, progress: Progress | None = None,
    run_id: int | None = None, started_by: str | None = None, source: str = "cli",
    on_file: Callable[["FileReport"], None] | None = None,
) -> IngestReport:
    """Import every file of a mapping; a bad row is reported, a bad mapping or missing file stops before writing.

    The import is recorded as a run (its files, who started it, when it ended, why it failed); pass `run_id` when the
    caller recorded the run already (the app's background imports), else one is started here. `on_file` sees each
    file's report as soon as it is stored."""
    run = run_id if run_id is not None else start_run(db, str(mapping_path), started_by, source)
    try:
        report = _ingest_all(db, mapping_path, batch_rows, progress, run, on_file)
    except Exception as exc:
        finish_run(db, run, getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        raise
    finish_run(db, run)
    report.run_id = run
    return report


def _ingest_all(
    db: MachineFile, mapping_path: Path, batch_rows: int, progress: Progress | None, run_id: int,
    on_file: Callable[["FileReport"], None] | None,
) -> IngestReport:
    mapping = load_mapping(mapping_path)
    sources = _open_all(mapping, batch_rows)
    reports = []
    if mapping.as_of:
        db.set_meta("data_as_of", mapping.as_of.isoformat())
    for pos, fm in mapping.ordered():
        if progress:
            progress(f"importing {fm.path} as {fm.entity}")
        report = _ingest_file(db, mapping, fm, sources[pos], str(mapping_path), progress, run_id)
        reports.append(report)
        if on_file:
            on_file(report)
        if progress:
            progress(
                f"  {fm.path}: {report.rows_read:,} read, {report.rows_stored:,} stored "
                f"({report.inserted:,} new, {report.updated:,} changed, {report.unchanged:,} unchanged), "
                f"{report.rows_rejected:,} rejected"
            )
    return IngestReport(str(mapping_path), reports)


def _ingest_file(
    db: MachineFile, mapping: Mapping, fm: FileMapping, source: SourceFile, mapping_name: str, progress: Progress | None,
    run_id: int,
) -> FileReport:
    spec = ENTITIES[fm.entity]
    report = FileReport(fm.path, fm.entity, sha256_file(mapping.resolve(fm)), notes=list(source.notes))
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    with db.transaction():
        staged = stage(db, source, progress)
        report.notes += staged.notes
        report.rejections += [Rejection(report.file, p.line, p.reason, source.location, "row", p.raw) for p in staged.problems]
        if source.header:
            _transform_and_store(db, mapping, fm, spec, source, report, staged.padded)
        report.rows_read = staged.rows + len(staged.problems)
        report.rows_rejected += len(staged.problems)
        _log_import(db, mapping_name, report, started, run_id)
        _drop_work(db)
    return report


def _drop_work(db: MachineFile) -> None:
    """Free the file's work tables before the next file (they can hold millions of rows)."""
    for view in ("new_rows", "cand"):
        db.execute(f"DROP VIEW IF EXISTS {view}")
    for table in ("ranked", "superseded", "typed"):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    drop_stage(db)


def _fields(fm: FileMapping, spec: EntitySpec, index: dict[str, int]) -> dict[str, FieldSql]:
    out = {}
    for f in spec.fields:
        if spec.name == "telemetry" and fm.metrics and f.name in ("metric", "value"):
            continue
        sql = field_sql(fm, f, index)
        if sql is not None:
            out[f.name] = sql
    return out


def _metric_exprs(fm: FileMapping, index: dict[str, int]) -> tuple[list[str], list[str]]:
    """Wide telemetry: each metric's value (_v<i>), and the texts that are not numbers (_value_problem, by metric)."""
    values, problems = [], []
    for i, (metric, column) in sorted(enumerate(fm.metric_columns().items()), key=lambda item: item[1][0]):
        text = f"r{index[column.strip().lower()]}"
        values.append(f"{number_sql(text)} AS _v{i}")
        problems.append(
            f"CASE WHEN {text} IS NOT NULL AND _v{i} IS NULL THEN {lit(metric + ': ')} || {quoted_sql(text)} || "
            f"{lit(f' is not a number (column {column})')} END"
        )
    return values, [f"nullif(concat_ws('; ', {', '.join(problems)}), '') AS _value_problem"] if problems else []


def _typed_layers(
    fm: FileMapping, fields: dict[str, FieldSql], index: dict[str, int], values: list[str], padded: bool
) -> str:
    """`stage` trimmed (t<i>; only when some cell may be `padded`), cleaned (r<i>), as each field's text
    (_raw_<name>), typed: each layer names what the next reads, so DuckDB trims, cleans and parses every cell once."""
    positions = source_positions(fm, index)
    na = na_values(fm)
    trimmed = "".join(f", {trimmed_sql(f'c{i}') if padded else f'c{i}'} AS t{i}" for i in positions)
    cleaned = "".join(f", {cleaned_sql(f't{i}', na)} AS r{i}" for i in positions)
    raws = "".join(f", {f.raw} AS _raw_{name}" for name, f in fields.items())
    typed = "".join(f", {expr}" for expr in [f"{f.typed} AS {name}" for name, f in fields.items()] + values)
    texts = "".join(f", c{i}" for i in range(len(index)))
    return f"SELECT *{typed} FROM (SELECT *{raws} FROM (SELECT _line{texts}{cleaned} FROM (SELECT *{trimmed} FROM stage)))"


def _unknown_serials(
    db: MachineFile, fm: FileMapping, spec: EntitySpec, fields: dict[str, FieldSql], index: dict[str, int], padded: bool
) -> bool:
    """Whether a row names a machine the machine file lacks. Most files name none, and the typed pass then leaves its
    check out: a join, which also reorders rows (see `_ordered_unique_sql`)."""
    if spec.refs_machine == "none" or "serial" not in fields:
        return False
    serials = f"SELECT DISTINCT serial FROM ({_typed_layers(fm, fields, index, [], padded)})"  # DuckDB types serial only
    return bool(db.scalar(f"SELECT count(*) FROM ({serials}) WHERE {UNKNOWN_SERIAL}"))


def _typed_select(
    fm: FileMapping, spec: EntitySpec, fields: dict[str, FieldSql], mapping: Mapping, index: dict[str, int], padded: bool,
    unknown: bool,
) -> str:
    """Typed fields, a wide file's metric values and each row's reason (NULL = good), in one pass over `stage`
    (`unknown`: some serials are not in the machine file)."""
    values, value_problems = _metric_exprs(fm, index)
    exprs = list(fields) + [f"_v{i}" for i in range(len(values))]
    problems = [f"{f.problem} AS _p{i}" for i, f in enumerate(f for f in fields.values() if f.problem)]
    if spec.id_field and spec.id_field not in fields:
        exprs.append(f"{derived_id_sql(spec, fields)} AS {spec.id_field}")
    for name, _ in stored_columns(spec):
        if name == "age_as_of":
            exprs.append(f"{('DATE ' + lit(mapping.as_of)) if mapping.as_of and 'age_years' in fields else 'NULL'} AS age_as_of")
        elif name not in fields and name != spec.id_field and name not in dict(PROVENANCE):
            if not (spec.name == "telemetry" and fm.metrics and name in ("metric", "value")):
                exprs.append(f"NULL AS {name}")
    texts = [f"c{i}" for i in range(len(index))]
    rows = f"SELECT _line, {', '.join(exprs + value_problems + problems + texts)} FROM ({_typed_layers(fm, fields, index, values, padded)})"
    named = [f"_p{i}" for i in range(len(problems))]
    checks = list(named)
    if unknown:
        checks.append(
            f"CASE WHEN {UNKNOWN_SERIAL} THEN 'unknown machine serial ''' || serial || ''' (not in the machine file)' END"
        )
    reason = f"nullif(concat_ws('; ', {', '.join(checks)}), '')" if checks else "NULL::VARCHAR"
    if fm.metrics:
        # A wide row counts as stored when at least one of its metric values is stored.
        empty = " AND ".join(f"_v{i} IS NULL" for i in range(len(values)))
        reason = f"coalesce({reason}, CASE WHEN {empty} THEN 'no metric value in this row' END)"
    drop = f" EXCLUDE ({', '.join(named)})" if named else ""
    rows = f"SELECT *{drop}, {reason} AS _reason FROM ({rows})"
    # A rejected row keeps its text as read; the others drop theirs here (the text is the size of the file).
    text = f"CASE WHEN _reason IS NOT NULL THEN {raw_text_sql('', len(texts))} END"
    return f"SELECT * EXCLUDE ({', '.join(texts)}), {text} AS _text FROM ({rows})"


def _unpivot_metrics(fm: FileMapping, spec: EntitySpec) -> str:
    """The good rows' metric values as long rows (NULL values dropped), with the row's other stored columns."""
    metrics = list(fm.metric_columns())
    keep = [n for n, _ in stored_columns(spec) if n not in dict(PROVENANCE) and n not in ("metric", "value")]
    on = ", ".join(f"_v{i} AS {lit(m)}" for i, m in enumerate(metrics))
    values = ", ".join(f"_v{i}" for i in range(len(metrics)))
    return (
        f"SELECT * FROM (UNPIVOT (SELECT _line, {', '.join(keep)}, {values} FROM typed WHERE _reason IS NULL) "
        f"ON {on} INTO NAME metric VALUE value)"
    )


def _transform_and_store(
    db: MachineFile, mapping: Mapping, fm: FileMapping, spec: EntitySpec, source: SourceFile, report: FileReport,
    padded: bool,
) -> None:
    index = source.column_index()
    fields = _fields(fm, spec, index)
    unknown = _unknown_serials(db, fm, spec, fields, index, padded)
    db.execute(f"CREATE OR REPLACE TEMP TABLE typed AS {_typed_select(fm, spec, fields, mapping, index, padded, unknown)}")
    wide = spec.name == "telemetry" and bool(fm.metrics)
    if wide:
        drop_stage(db)  # a wide row is superseded value by value, never as a whole row: its text is not needed again
        _value_problems(db, report, source.location)
        db.execute(f"CREATE OR REPLACE TEMP VIEW cand AS {_unpivot_metrics(fm, spec)}")
    else:
        db.execute("CREATE OR REPLACE TEMP VIEW cand AS SELECT * FROM typed WHERE _reason IS NULL")
        gaps = [name for name, f in fields.items() if f.gap]
        if gaps:
            counts = db.one(f"SELECT {', '.join(f'count(*) FILTER (WHERE {n} IS NULL)' for n in gaps)} FROM cand")
            report.data_gaps = {n: c for n, c in zip(gaps, counts or ()) if c}
    _dedupe_and_store(db, spec, fm, report, source.location, wide, len(source.header))


def _value_problems(db: MachineFile, report: FileReport, location: str) -> None:
    """Wide rows that are stored with some values left out: which values, and why."""
    for line, reason in db.sql(
        "SELECT _line, _value_problem FROM typed WHERE _reason IS NULL AND _value_problem IS NOT NULL ORDER BY _line"
    ):
        report.rejections.append(Rejection(report.file, line, reason, location, "value"))


def _duplicate_keys(db: MachineFile, spec: EntitySpec, wide: bool) -> bool:
    """Whether two candidate rows share a key (for wide telemetry: two good rows of the same machine and time)."""
    rows, key = ("typed WHERE _reason IS NULL", [k for k in spec.key if k != "metric"]) if wide else ("cand", list(spec.key))
    if db.scalar(_ordered_unique_sql(rows, key)):
        return False
    # Distinct key hashes: cheaper than grouping by the key; a rare collision only sends the file down the exact path.
    return bool(db.scalar(f"SELECT count(*) > count(DISTINCT hash({', '.join(key)})) FROM {rows}"))


def _ordered_unique_sql(rows: str, key: list[str]) -> str:
    """True when the rows' order proves their keys unique, in one streaming pass (no hash table of every key, which
    at 100,000 machines spilled to disk): each key above the one before it, or, for a compound key, each first-key
    value in one run of rows with the rest of the key rising within it (an export sorted by machine and time). The
    rows come in file order unless a join reordered them; then the exact check decides."""
    first, rest = key[0], f"({', '.join(key[1:])})"
    if len(key) == 1:
        return (f"SELECT count(*) FILTER (WHERE _up IS NOT TRUE) <= 1 "
                f"FROM (SELECT {first} > lag({first}) OVER () AS _up FROM {rows})")
    return (
        f"SELECT count(*) FILTER (WHERE _same AND _up IS NOT TRUE) = 0 AND count({first}) = count(*) "
        f"AND count(*) FILTER (WHERE _same IS NOT TRUE) = count(DISTINCT {first}) "
        f"FROM (SELECT {first}, {first} = lag({first}) OVER () AS _same, {rest} > lag({rest}) OVER () AS _up FROM {rows})"
    )


def _dedupe_and_store(
    db: MachineFile, spec: EntitySpec, fm: FileMapping, report: FileReport, location: str, wide: bool, width: int
) -> None:
    cols = ", ".join(n for n, _ in stored_columns(spec) if n not in dict(PROVENANCE))
    rows = "cand"
    if _duplicate_keys(db, spec, wide):
        _supersede(db, spec, report, location, wide, width)
        rows = "ranked WHERE _rank = 1"
    db.execute(
        f"CREATE OR REPLACE TEMP VIEW new_rows AS SELECT {cols}, {db.file_provenance(spec, fm.path)}, _line AS source_line "
        f"FROM {rows}"
    )
    counts = db.upsert(spec, "new_rows")
    report.inserted, report.updated, report.unchanged = counts.inserted, counts.updated, counts.unchanged
    if wide:
        report.values_stored = counts.inserted + counts.updated + counts.unchanged
    report.rows_rejected, report.rows_stored = db.one(
        "SELECT count(*) FILTER (WHERE _reason IS NOT NULL), count(*) FILTER (WHERE _reason IS NULL) FROM typed"
    ) or (0, 0)
    if report.rows_rejected:
        _row_rejections(db, report, location)
    report.rejections.sort(key=lambda r: (r.line, r.scope))


def _supersede(db: MachineFile, spec: EntitySpec, report: FileReport, location: str, wide: bool, width: int) -> None:
    """The last line with a key wins; identical earlier copies merge into it, differing ones are reported."""
    key = ", ".join(spec.key)
    payload = [n for n, _ in stored_columns(spec) if n not in dict(PROVENANCE)]
    same = " AND ".join(f"c.{c} IS NOT DISTINCT FROM k.{c}" for c in payload if c not in spec.key)
    on = " AND ".join(f"c.{k} = k.{k}" for k in spec.key)
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE ranked AS SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _line DESC) AS _rank FROM cand"
    )
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE superseded AS SELECT c._line, k._line AS kept_line, {same or 'TRUE'} AS identical, "
        f"{'c.metric' if wide else 'NULL'} AS metric FROM ranked c JOIN ranked k ON {on} AND k._rank = 1 WHERE c._rank > 1"
    )
    report.duplicates_merged = db.scalar("SELECT count(*) FROM superseded WHERE identical")
    if wide:
        for line, metric, kept in db.sql("SELECT _line, metric, kept_line FROM superseded WHERE NOT identical ORDER BY _line, metric"):
            report.rejections.append(
                Rejection(report.file, line, f"{metric}: superseded by line {kept} (same machine and time)", location, "value")
            )
    else:
        db.execute(
            "UPDATE typed SET _reason = 'superseded by line ' || s.kept_line || ' (same key, different values; the later "
            f"line is kept)', _text = {raw_text_sql('st.', width)} FROM superseded s JOIN stage st USING (_line) "
            "WHERE typed._line = s._line AND NOT s.identical"
        )


def raw_text_sql(prefix: str, width: int) -> str:
    """A row's text as reported with its rejection: its cells joined by ' | ', at most 300 characters."""
    return "left(concat_ws(' | ', " + ", ".join(f"coalesce({prefix}c{i}, '')" for i in range(width)) + "), 300)"


def _row_rejections(db: MachineFile, report: FileReport, location: str) -> None:
    """Every rejected row with its reason and its text as read."""
    for line, reason, text in db.sql("SELECT _line, _reason, _text FROM typed WHERE _reason IS NOT NULL ORDER BY _line"):
        report.rejections.append(Rejection(report.file, line, reason, location, "row", text))


def _log_import(db: MachineFile, mapping_name: str, report: FileReport, started: datetime, run_id: int) -> None:
    log_import(
        db, mapping=mapping_name, file=report.file, entity=report.entity, sha256=report.sha256, started=started,
        rows_read=report.rows_read, rows_stored=report.rows_stored, rows_rejected=report.rows_rejected,
        inserted=report.inserted, updated=report.updated, unchanged=report.unchanged,
        rejections=[(r.file, r.line, r.location, r.scope, r.reason, r.raw) for r in report.rejections],
        run_id=run_id, duplicates_merged=report.duplicates_merged, values_stored=report.values_stored,
    )
