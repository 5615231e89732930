"""A rule's contract case (`Rule.contract_case`) as export files plus mapping entries, ready to import."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from sdi.models import ENTITY_ORDER
from sdi.triggers.rules import Rule, Trigger

AS_OF = date(2026, 6, 30)
EXAMPLE = Path(__file__).resolve().parents[2] / "eval" / "examples" / "hydraulic_oil_age.py"
# The rules-file entry of the example plug-in, exactly as README "Adding a rule" shows it.
EXAMPLE_ENTRY = """  hydraulic_oil_age:
    version: 1
    campaign: hydraulic oil change
    params: {max_hours: 2000}
"""


def _cell(value: Any) -> str:
    return "" if value is None else str(value)  # dates read 2026-06-30, timestamps 2026-06-30 10:00:00


def case_files(rows: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """CSV text per file name and the mapping's `files:` entries (canonical field = column name)."""
    texts: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    for entity in sorted(rows, key=ENTITY_ORDER.index):
        columns = list(dict.fromkeys(name for row in rows[entity] for name in row))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(row.get(c)) for c in columns] for row in rows[entity]])
        texts[f"{entity}.csv"] = out.getvalue()
        files.append({"path": f"{entity}.csv", "entity": entity, "columns": {c: c for c in columns}})
    return texts, files


def write_case(folder: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """Write the case's export files and mapping.yaml into folder; returns the mapping path."""
    folder.mkdir(parents=True, exist_ok=True)
    texts, files = case_files(rows)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    mapping = folder / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"files": files}, sort_keys=False), encoding="utf-8")
    return mapping


def rules_with_example(shipped: str) -> str:
    """The shipped rules text with the example plug-in's entry added (what an administrator writes)."""
    anchor = "\n# Per-model overrides"
    assert anchor in shipped and "parts_reminder]" in shipped
    return shipped.replace(anchor, EXAMPLE_ENTRY.rstrip("\n") + "\n" + anchor, 1).replace(
        "parts_reminder]", "parts_reminder, hydraulic_oil_age]", 1)


def sentences(rule: Rule, trigger: Trigger) -> list[str]:
    """The rule's three sentences for a trigger, citing T1."""
    return [rule.finding(trigger, "T1"), rule.check_on_site(trigger, "T1"), rule.talking_point(trigger, "T1")]
