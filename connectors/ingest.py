"""`sdi ingest`: run a mapping through the readers and transforms into the machine file, accounting for every row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from connectors.mapping import FileMapping, Mapping, load_mapping
from connectors.readers import Batch, SourceFile, open_source
from connectors.transform import FieldSql, derived_id_sql, field_sql, lit, na_clean, na_values, number_sql
from sdi.errors import MappingError
from sdi.hashing import sha256_file
from sdi.store import PROVENANCE, MachineFile, stored_columns
from sdi.store.imports import finish_run, log_import, start_run
from sdi.models import ENTITIES, EntitySpec

Progress = Callable[[str], None]


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


def _stage(db: MachineFile, source: SourceFile, report: FileReport, progress: Progress | None) -> int:
    """Load the file's text rows into the temp table `stage`; returns how many rows the reader could not parse."""
    cols = ", ".join(f"c{i} VARCHAR" for i in range(len(source.header)))
    db.execute(f"CREATE OR REPLACE TEMP TABLE stage (_line BIGINT{', ' + cols if cols else ''})")
    staged = unreadable = 0
    for batch in source.batches():
        _stage_batch(db, batch, report, source.location)
        staged += batch.table.num_rows
        unreadable += len(batch.problems)
        if progress and staged >= 1_000_000 and batch.table.num_rows:
            progress(f"  {report.file}: {staged:,} rows staged")
    return unreadable


def _stage_batch(db: MachineFile, batch: Batch, report: FileReport, location: str) -> None:
    for problem in batch.problems:
        report.rejections.append(Rejection(report.file, problem.line, problem.reason, location, "row", problem.raw))
    if batch.table.num_rows:
        with db.registered("_batch", batch.table):
            db.execute("INSERT INTO stage SELECT * FROM _batch")


def _ingest_file(
    db: MachineFile, mapping: Mapping, fm: FileMapping, source: SourceFile, mapping_name: str, progress: Progress | None,
    run_id: int,
) -> FileReport:
    spec = ENTITIES[fm.entity]
    report = FileReport(fm.path, fm.entity, sha256_file(mapping.resolve(fm)), notes=list(source.notes))
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    with db.transaction():
        unreadable = _stage(db, source, report, progress)
        if source.header:
            _transform_and_store(db, mapping, fm, spec, source, report)
        report.rows_read = db.scalar("SELECT count(*) FROM stage") + unreadable
        report.rows_rejected += unreadable
        _log_import(db, mapping_name, report, started, run_id)
    return report


def _fields(fm: FileMapping, spec: EntitySpec, index: dict[str, int]) -> dict[str, FieldSql]:
    out = {}
    for f in spec.fields:
        if spec.name == "telemetry" and fm.metrics and f.name in ("metric", "value"):
            continue
        sql = field_sql(fm, f, index)
        if sql is not None:
            out[f.name] = sql
    return out


def _typed_select(
    fm: FileMapping, spec: EntitySpec, fields: dict[str, FieldSql], mapping: Mapping, index: dict[str, int]
) -> str:
    exprs = [f"{f.typed} AS {name}" for name, f in fields.items()]
    problems = [f.problem for f in fields.values() if f.problem]
    if spec.id_field and spec.id_field not in fields:
        exprs.append(f"{derived_id_sql(spec, fields)} AS {spec.id_field}")
    for name, _ in stored_columns(spec):
        if name == "age_as_of":
            exprs.append(f"{('DATE ' + lit(mapping.as_of)) if mapping.as_of and 'age_years' in fields else 'NULL'} AS age_as_of")
        elif name not in fields and name != spec.id_field and name not in dict(PROVENANCE):
            if not (spec.name == "telemetry" and fm.metrics and name in ("metric", "value")):
                exprs.append(f"NULL AS {name}")
    for i, column in enumerate(fm.metric_columns().values()):
        exprs.append(f"c{index[column.strip().lower()]} AS _m{i}")  # carried along for the unpivot
    reason = f"nullif(concat_ws('; ', {', '.join(problems)}), '')" if problems else "NULL"
    return f"SELECT _line, {', '.join(exprs)}, {reason} AS _reason FROM stage"


def _unpivot_metrics(fm: FileMapping) -> str:
    metrics = fm.metric_columns()
    carried = ", ".join(f"_m{i}" for i in range(len(metrics)))
    parts = []
    for i, (metric, column) in enumerate(metrics.items()):
        raw = na_clean(f"_m{i}", na_values(fm))
        num = number_sql(raw)
        bad = f"CASE WHEN {raw} IS NOT NULL AND {num} IS NULL THEN {lit(metric + ': ')} || '''' || {raw} || '''' || ' is not a number (column {column})' END"
        parts.append(
            f"SELECT * EXCLUDE ({carried}), {lit(metric)} AS metric, {num} AS value, {raw} IS NULL AS _empty, "
            f"{bad} AS _value_problem FROM typed"
        )
    return " UNION ALL ".join(parts)


def _transform_and_store(
    db: MachineFile, mapping: Mapping, fm: FileMapping, spec: EntitySpec, source: SourceFile, report: FileReport
) -> None:
    index = source.column_index()
    fields = _fields(fm, spec, index)
    db.execute(f"CREATE OR REPLACE TEMP TABLE typed AS {_typed_select(fm, spec, fields, mapping, index)}")
    if spec.refs_machine != "none":
        db.execute(
            "UPDATE typed SET _reason = concat_ws('; ', _reason, 'unknown machine serial ''' || serial || ''' (not in the machine file)') "
            "WHERE serial IS NOT NULL AND serial NOT IN (SELECT serial FROM machines)"
        )
    wide = spec.name == "telemetry" and bool(fm.metrics)
    if wide:
        db.execute(f"CREATE OR REPLACE TEMP TABLE longform AS {_unpivot_metrics(fm)}")
        _wide_accounting(db, report, source.location)
        rows = "SELECT * EXCLUDE (_empty, _value_problem) FROM longform WHERE _reason IS NULL AND NOT _empty AND _value_problem IS NULL"
    else:
        rows = f"SELECT * EXCLUDE ({', '.join(f'_m{i}' for i in range(len(fm.metric_columns())))}) FROM typed WHERE _reason IS NULL" if fm.metrics else "SELECT * FROM typed WHERE _reason IS NULL"
        for name, f in fields.items():
            if f.gap:
                missing = db.scalar(f"SELECT count(*) FROM typed WHERE _reason IS NULL AND {name} IS NULL")
                if missing:
                    report.data_gaps[name] = missing
    _dedupe_and_store(db, spec, fm, rows, report, source.location, wide, len(source.header))


def _wide_accounting(db: MachineFile, report: FileReport, location: str) -> None:
    # A wide row counts as stored when at least one of its metric values is stored.
    for line, reason in db.sql(
        "SELECT _line, string_agg(_value_problem, '; ' ORDER BY metric) FROM longform "
        "WHERE _reason IS NULL AND _value_problem IS NOT NULL GROUP BY _line ORDER BY _line"
    ):
        report.rejections.append(Rejection(report.file, line, reason, location, "value"))
    db.execute(
        "UPDATE typed SET _reason = 'no metric value in this row' WHERE _reason IS NULL AND _line NOT IN "
        "(SELECT _line FROM longform WHERE NOT _empty AND _value_problem IS NULL)"
    )


def _dedupe_and_store(
    db: MachineFile, spec: EntitySpec, fm: FileMapping, rows: str, report: FileReport, location: str, wide: bool, width: int
) -> None:
    key = ", ".join(spec.key)
    payload = [n for n, _ in stored_columns(spec) if n not in dict(PROVENANCE)]
    same = " AND ".join(f"c.{c} IS NOT DISTINCT FROM k.{c}" for c in payload if c not in spec.key)
    on = " AND ".join(f"c.{k} = k.{k}" for k in spec.key)
    # The last line with a key wins; identical earlier copies merge into it, differing ones are reported.
    db.execute(f"CREATE OR REPLACE TEMP TABLE cand AS {rows}")
    if db.scalar(f"SELECT count(*) FROM (SELECT 1 FROM cand GROUP BY {key} HAVING count(*) > 1)"):
        db.execute(
            f"CREATE OR REPLACE TEMP TABLE cand AS SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _line DESC) AS _rank FROM cand"
        )
    else:
        db.execute("ALTER TABLE cand ADD COLUMN _rank BIGINT DEFAULT 1")
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE superseded AS SELECT c._line, k._line AS kept_line, {same or 'TRUE'} AS identical, "
        f"{'c.metric' if wide else 'NULL'} AS metric FROM cand c JOIN cand k ON {on} AND k._rank = 1 WHERE c._rank > 1"
    )
    report.duplicates_merged = db.scalar("SELECT count(*) FROM superseded WHERE identical")
    if wide:
        for line, metric, kept in db.sql("SELECT _line, metric, kept_line FROM superseded WHERE NOT identical ORDER BY _line, metric"):
            report.rejections.append(
                Rejection(report.file, line, f"{metric}: superseded by line {kept} (same machine and time)", location, "value")
            )
    else:
        db.execute(
            "UPDATE typed SET _reason = 'superseded by line ' || s.kept_line || ' (same key, different values; the later line is kept)' "
            "FROM superseded s WHERE typed._line = s._line AND NOT s.identical"
        )
    cols = ", ".join(n for n, _ in stored_columns(spec) if n not in dict(PROVENANCE))
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE new_rows AS SELECT {cols}, {lit(fm.path)} AS source_file, _line AS source_line "
        f"FROM cand WHERE _rank = 1"
    )
    counts = db.upsert(spec, "new_rows")
    report.inserted, report.updated, report.unchanged = counts.inserted, counts.updated, counts.unchanged
    if wide:
        report.values_stored = db.scalar("SELECT count(*) FROM new_rows")
    raw = "concat_ws(' | ', " + ", ".join(f"s.c{i}" for i in range(width)) + ")" if width else "''"
    for line, reason, text in db.sql(
        f"SELECT t._line, t._reason, left({raw}, 300) FROM typed t JOIN stage s USING (_line) "
        "WHERE t._reason IS NOT NULL ORDER BY t._line"
    ):
        report.rejections.append(Rejection(report.file, line, reason, location, "row", text))
    report.rows_rejected = db.scalar("SELECT count(*) FROM typed WHERE _reason IS NOT NULL")
    report.rows_stored = db.scalar("SELECT count(*) FROM typed WHERE _reason IS NULL")
    report.rejections.sort(key=lambda r: (r.line, r.scope))


def _log_import(db: MachineFile, mapping_name: str, report: FileReport, started: datetime, run_id: int) -> None:
    log_import(
        db, mapping=mapping_name, file=report.file, entity=report.entity, sha256=report.sha256, started=started,
        rows_read=report.rows_read, rows_stored=report.rows_stored, rows_rejected=report.rows_rejected,
        inserted=report.inserted, updated=report.updated, unchanged=report.unchanged,
        rejections=[(r.file, r.line, r.location, r.scope, r.reason, r.raw) for r in report.rejections],
        run_id=run_id, duplicates_merged=report.duplicates_merged, values_stored=report.values_stored,
    )
