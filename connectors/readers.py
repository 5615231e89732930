"""Read CSV, Parquet, JSON and XLSX exports as batches of text columns with the line each row came from."""

from __future__ import annotations

import codecs
import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from sdi.errors import MappingError

SUPPORTED = (".csv", ".txt", ".tsv", ".parquet", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm")
LINE_COL = "_line"
DELIMITERS = (",", ";", "\t", "|")
csv.field_size_limit(64 * 1024 * 1024)


@dataclass(frozen=True)
class RowProblem:
    """A row the reader itself could not take (wrong number of fields, broken quoting)."""

    line: int
    reason: str
    raw: str = ""


@dataclass
class Batch:
    """Rows as text columns c0..cN plus `_line`, and the rows that failed to parse."""

    table: pa.Table
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class CsvLayout:
    """How a delimited text file is laid out, for a reader other than Python's (DuckDB's)."""

    path: Path
    encoding: str
    delimiter: str
    width: int


@dataclass
class SourceFile:
    """An opened export: its header, how rows are located, and notes about how it was read."""

    path: Path
    header: list[str]
    location: str  # "line", "row" or "record": what a row number means in this file
    notes: list[str]
    _batches: Iterator[Batch] | None = None
    csv: CsvLayout | None = None  # set for CSV/TSV: the rows may be read in bulk instead of through batches()

    def batches(self) -> Iterator[Batch]:
        """The file's rows, once."""
        assert self._batches is not None
        batches, self._batches = self._batches, None
        return batches

    def column_index(self) -> dict[str, int]:
        """Header name (case-insensitive, trimmed) -> position."""
        index: dict[str, int] = {}
        for pos, name in enumerate(self.header):
            index.setdefault(name.strip().lower(), pos)
        return index


def open_source(
    path: Path,
    *,
    batch_rows: int = 200_000,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> SourceFile:
    """Open an export by its extension; raises MappingError if it cannot be read at all."""
    if not path.is_file():
        raise MappingError(f"file not found: {path}", "check `path` in the mapping (relative to the mapping file)")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise MappingError(f"{path.name}: unsupported file type '{suffix}'", f"use one of {', '.join(SUPPORTED)}")
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            return _open_csv(path, batch_rows, delimiter, encoding)
        if suffix == ".parquet":
            return _open_parquet(path, batch_rows)
        if suffix in (".json", ".jsonl", ".ndjson"):
            return _open_json(path, batch_rows)
        return _open_xlsx(path, batch_rows, sheet)
    except MappingError:
        raise
    except Exception as exc:  # a corrupt file of any kind: say which and why, not a traceback
        raise MappingError(f"{path.name}: cannot be read as {suffix[1:]}: {exc}") from exc


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.min.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ";".join(_to_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _dedupe(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for raw in header:
        name = (raw or "").strip() or f"column_{len(out) + 1}"
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        out.append(name if seen[key] == 1 else f"{name}.{seen[key]}")
    return out


def _columns_table(lines: list[int], rows: list[list[str]], width: int) -> pa.Table:
    columns = list(zip(*rows)) if rows else [() for _ in range(width)]
    arrays = {LINE_COL: pa.array(lines, pa.int64())}
    for pos in range(width):
        arrays[f"c{pos}"] = pa.array(columns[pos], pa.string())
    return pa.table(arrays)


def _detect_encoding(path: Path, encoding: str | None) -> tuple[str, list[str]]:
    if encoding:
        return encoding, []
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(4 * 1024 * 1024):
                if not (chunk.isascii() and not decoder.getstate()[0]):  # ASCII after a whole character is UTF-8
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252", ["not valid UTF-8: read as Windows-1252 (set `encoding` in the mapping to override)"]
    return "utf-8-sig", []


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _open_csv(path: Path, batch_rows: int, delimiter: str | None, encoding: str | None) -> SourceFile:
    enc, notes = _detect_encoding(path, encoding)
    with path.open(encoding=enc, newline="") as fh:
        first = fh.readline()
    if not first.strip():
        return SourceFile(path, [], "line", notes + ["file is empty: no header, no rows"], iter(()))
    delim = delimiter or _sniff_delimiter(first)
    if delim != ",":
        notes.append(f"delimiter {delim!r}")
    header = _dedupe(next(csv.reader([first], delimiter=delim)))
    batches = _csv_batches(path, enc, delim, len(header), batch_rows)
    return SourceFile(path, header, "line", notes, batches, CsvLayout(path, enc, delim, len(header)))


def judge_row(row: list[str], width: int, line: int, delim: str) -> list[str] | RowProblem | None:
    """A parsed CSV row as a row of `width` fields, a problem, or None for a blank line (not a row)."""
    if len(row) == width:
        return row
    if not row or (len(row) == 1 and not row[0].strip()):
        return None
    if len(row) > width and not any(v.strip() for v in row[width:]):
        return row[:width]
    return RowProblem(line, f"row has {len(row)} fields, the header has {width}", delim.join(row)[:300])


def _csv_batches(path: Path, enc: str, delim: str, width: int, size: int) -> Iterator[Batch]:
    with path.open(encoding=enc, newline="") as fh:
        reader = csv.reader(fh, delimiter=delim)
        next(reader)
        lines: list[int] = []
        rows: list[list[str]] = []
        problems: list[RowProblem] = []
        prev = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.append(RowProblem(prev + 1, f"unreadable CSV row: {exc}"))
                prev = reader.line_num
                continue
            start, prev = prev + 1, reader.line_num
            judged = judge_row(row, width, start, delim)
            if isinstance(judged, RowProblem):
                problems.append(judged)
            elif judged is not None:
                lines.append(start)
                rows.append(judged)
            if len(rows) >= size:
                yield Batch(_columns_table(lines, rows, width), problems)
                lines, rows, problems = [], [], []
        if rows or problems:
            yield Batch(_columns_table(lines, rows, width), problems)


def _open_parquet(path: Path, batch_rows: int) -> SourceFile:
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    header = _dedupe(handle.schema_arrow.names)

    def batches() -> Iterator[Batch]:
        offset = 0
        for record_batch in handle.iter_batches(batch_size=batch_rows):
            n = record_batch.num_rows
            rows = [[_to_text(v) for v in col.to_pylist()] for col in record_batch.columns]
            table = pa.table(
                {LINE_COL: pa.array(range(offset + 1, offset + n + 1), pa.int64())}
                | {f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(rows)}
            )
            offset += n
            yield Batch(table)

    return SourceFile(path, header, "row", [], batches())


def _open_json(path: Path, batch_rows: int) -> SourceFile:
    text = path.read_text(encoding="utf-8-sig")
    records: list[tuple[int, Any]] = []
    problems: list[RowProblem] = []
    location = "record"
    stripped = text.strip()
    if not stripped:
        return SourceFile(path, [], "record", ["file is empty: no records"], iter(()))
    if path.suffix.lower() in (".jsonl", ".ndjson") or (stripped[0] == "{" and "\n{" in stripped):
        location = "line"
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    problems.append(RowProblem(number, f"not valid JSON: {exc.msg}", line[:300]))
    else:
        data = json.loads(text)
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise MappingError(f"{path.name}: expected a JSON array of records (or an object holding one)")
            data = lists[0]
        if not isinstance(data, list):
            raise MappingError(f"{path.name}: expected a JSON array of records")
        records = list(enumerate(data, start=1))
    header: list[str] = []
    for _, rec in records:
        if isinstance(rec, dict):
            header.extend(k for k in rec if k not in header)
    good = [(n, r) for n, r in records if isinstance(r, dict)]
    problems += [RowProblem(n, "record is not a JSON object", str(r)[:300]) for n, r in records if not isinstance(r, dict)]

    def batches() -> Iterator[Batch]:
        for start in range(0, max(len(good), 1), batch_rows):
            chunk = good[start : start + batch_rows]
            rows = [[_to_text(rec.get(k)) for k in header] for _, rec in chunk]
            yield Batch(_columns_table([n for n, _ in chunk], rows, len(header)), problems if start == 0 else [])

    return SourceFile(path, _dedupe(header), location, [], batches())


def _open_xlsx(path: Path, batch_rows: int, sheet: str | None) -> SourceFile:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    if sheet is not None and sheet not in book.sheetnames:
        raise MappingError(f"{path.name}: no sheet named {sheet!r}", f"sheets are: {', '.join(book.sheetnames)}")
    ws = book[sheet] if sheet else book.worksheets[0]
    rows_iter = ws.iter_rows(values_only=True)
    header: list[str] = []
    header_row = 0
    for header_row, values in enumerate(rows_iter, start=1):
        if any(v not in (None, "") for v in values):
            header = [_to_text(v) for v in values]
            break
    while header and not header[-1].strip():
        header.pop()
    if not header:
        book.close()
        return SourceFile(path, [], "row", [f"sheet {ws.title!r} is empty: no header, no rows"], iter(()))
    width = len(header)
    notes = [f"sheet {ws.title!r}"]

    def batches() -> Iterator[Batch]:
        lines: list[int] = []
        rows: list[list[str]] = []
        for number, values in enumerate(rows_iter, start=header_row + 1):
            texts = [_to_text(v) for v in values[:width]]
            if not any(t.strip() for t in texts):
                continue
            texts += [""] * (width - len(texts))
            lines.append(number)
            rows.append(texts)
            if len(rows) >= batch_rows:
                yield Batch(_columns_table(lines, rows, width))
                lines, rows = [], []
        yield Batch(_columns_table(lines, rows, width))
        book.close()

    return SourceFile(path, _dedupe(header), "row", notes, batches())
