"""Outcomes from a CRM export (e.g. a Salesforce report of closed opportunities), matched by the SDI external id."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sdi.audit.log import AuditLog
from sdi.errors import SdiError
from sdi.hashing import sha256_file
from sdi.store import MachineFile
from sdi.triggers.outcomes import RESULTS, outcomes_for, record_outcome

FIELDS = ("external_id", "result", "value", "currency", "discount", "partner", "reason", "close_date")
REQUIRED = ("external_id", "result")
SKIP = "skip"  # a stage mapped to skip (still open in the CRM) is passed over, not rejected
USER = "crm-import"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Mapping:
    """Which CSV column holds each SDI field, constants for missing ones, and CRM stage -> SDI result."""

    columns: dict[str, str]
    defaults: dict[str, str]
    results: dict[str, str]
    date_format: str


@dataclass
class ImportReport:
    """What an import did: outcomes recorded, rows unchanged or skipped, and rejected rows with line and reason."""

    file: str
    sha256: str
    rows: int = 0
    recorded: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (also the audit payload)."""
        return {"file": self.file, "sha256": self.sha256, "rows": self.rows, "recorded": len(self.recorded),
                "unchanged": self.unchanged, "skipped": self.skipped, "rejected": self.rejected,
                "outcomes": [{"opportunity_id": o["opportunity_id"], "outcome_id": o["id"], "result": o["result"]}
                             for o in self.recorded]}


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping YAML: columns (SDI field -> CSV column), values.result (stage -> result), defaults."""
    hint = "see README 'CRM export and outcomes import' for the mapping format"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise SdiError(f"cannot read mapping {path}: {exc.strerror}", hint) from exc
    except yaml.YAMLError as exc:
        raise SdiError(f"mapping {path} is not valid YAML: {exc}", hint) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
        raise SdiError(f"mapping {path} needs a 'columns' mapping (SDI field: CSV column)", hint)
    columns = {str(k): str(v) for k, v in raw["columns"].items()}
    defaults = {str(k): str(v) for k, v in (raw.get("defaults") or {}).items()}
    results = {str(k): str(v) for k, v in ((raw.get("values") or {}).get("result") or {}).items()}
    unknown = sorted((set(columns) | set(defaults)) - set(FIELDS))
    if unknown:
        raise SdiError(f"mapping {path}: unknown field(s) {', '.join(unknown)}", f"fields: {', '.join(FIELDS)}")
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise SdiError(f"mapping {path}: columns must name {', '.join(missing)}", hint)
    bad = sorted(v for v in results.values() if v not in (*RESULTS, SKIP))
    if bad:
        raise SdiError(f"mapping {path}: values.result maps to {', '.join(bad)}",
                       f"map each CRM stage to one of {', '.join(RESULTS)} or {SKIP}")
    return Mapping(columns, defaults, results, str(raw.get("date_format") or "%Y-%m-%d"))


def _number(text: str, what: str) -> float | None:
    """A CRM number such as '12,500.00', 'EUR 12500' or '10%'; None when blank."""
    cleaned = re.sub(r"^[A-Z]{3}\s*|[€$£%\s]|,", "", text.strip())
    if not cleaned:
        return None
    if not _NUMBER.match(cleaned):
        raise ValueError(f"{what} {text!r} is not a number")
    return float(cleaned)


def _parse(row: dict[str, str], mapping: Mapping) -> dict[str, Any] | None:
    """The outcome one CSV row asks for; None for a stage mapped to skip; ValueError says why a row is bad."""
    def get(name: str) -> str:
        if name in mapping.columns:
            return (row.get(mapping.columns[name]) or "").strip() or mapping.defaults.get(name, "")
        return mapping.defaults.get(name, "")

    opp_id, stage = get("external_id"), get("result")
    if not opp_id:
        raise ValueError(f"no external id in column {mapping.columns['external_id']!r}")
    if stage not in mapping.results:
        raise ValueError(f"stage {stage!r} is not in values.result of the mapping")
    if mapping.results[stage] == SKIP:
        return None
    close = get("close_date")
    try:
        recorded_at = datetime.strptime(close, mapping.date_format) if close else None
    except ValueError as exc:
        raise ValueError(f"close date {close!r} does not match {mapping.date_format}") from exc
    return {"opportunity_id": opp_id, "result": mapping.results[stage], "value": _number(get("value"), "value"),
            "currency": get("currency") or None, "discount_pct": _number(get("discount"), "discount"),
            "partner": get("partner") or None, "reason": get("reason"), "recorded_at": recorded_at}


def _same(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    keys = ("result", "value", "currency", "discount_pct", "partner")
    return all(stored[k] == wanted[k] for k in keys) and (stored["reason"] or "") == wanted["reason"]


def import_outcomes(db: MachineFile, home: Path, path: Path, mapping: Mapping) -> ImportReport:
    """Record each row's outcome through the outcomes code path (status, lead first action, one audit entry each);
    a row equal to the opportunity's latest outcome changes nothing; bad rows are reported, the rest go through."""
    report = ImportReport(str(path), sha256_file(path))
    audit = AuditLog(home)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        absent = sorted({mapping.columns[f] for f in mapping.columns} - set(reader.fieldnames or []))
        if absent:
            raise SdiError(f"{path}: column(s) {', '.join(absent)} named in the mapping are not in the header",
                           f"the header has: {', '.join(reader.fieldnames or [])}")
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            report.rows += 1
            try:
                wanted = _parse(row, mapping)
                if wanted is None:
                    report.skipped += 1
                    continue
                latest = outcomes_for(db, wanted["opportunity_id"])
                if latest and _same(latest[0], wanted):
                    report.unchanged += 1
                    continue
                outcome = record_outcome(db, wanted.pop("opportunity_id"), wanted.pop("result"), USER, **wanted)
            except (ValueError, SdiError) as exc:
                reason = exc.message if isinstance(exc, SdiError) else str(exc)
                report.rejected.append({"file": str(path), "line": line, "reason": reason})
                continue
            audit.append("outcome", outcome | {"source": {"file": str(path), "line": line}}, USER)
            report.recorded.append(outcome)
    audit.append("import_outcomes", report.to_dict(), USER)
    return report
