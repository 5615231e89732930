"""CRM export: SDI opportunities and their campaign steps as Salesforce Bulk API 2.0 / Data Loader CSV and JSON."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.triggers.leads import RULE_ID as LEAD_RULE
from sdi.triggers.opportunities import SCHEDULING
from sdi.triggers.outcomes import LATEST as LATEST_OUTCOMES

FORMATS = ("salesforce",)
# Opportunity.AccountId is a plain lookup: RelationshipName.IndexedFieldName. Task.WhatId is polymorphic
# (account, opportunity, …), so its header names the parent type: ObjectType:RelationshipName.IndexedFieldName.
ACCOUNT_REF = "Account.SDI_Account_Id__c"
WHAT_REF = "Opportunity:What.SDI_Opportunity_Id__c"
OPPORTUNITY_FIELDS = ("SDI_Opportunity_Id__c", "Name", "StageName", "CloseDate", "Amount", ACCOUNT_REF, "LeadSource",
                      "NextStep", "Description")
TASK_FIELDS = ("SDI_Task_Id__c", WHAT_REF, "Subject", "ActivityDate", "Status", "Priority", "Description")
CLOSE_AFTER_DAYS = 90  # without a contract end date, the rep has a quarter to close
# Campaign steps per channel: (step, days after first seen, subject).
STEPS = {
    "field_visit": (("visit", 7, "Field visit: {campaign}"), ("follow_up", 21, "Follow up after the visit")),
    "on_site": (("on_site", 3, "On site: quote {campaign}"), ("follow_up", 14, "Follow up on the quote")),
    "email_sequence": (("email_1", 0, "E-mail 1 of 3: {campaign}"), ("email_2", 7, "E-mail 2 of 3: reminder"),
                       ("email_3", 21, "E-mail 3 of 3: last call")),
}
TASK_STATUS = {"open": "Not Started", "in_progress": "In Progress"}  # any closed status: Completed
NAME_MAX, NEXT_STEP_MAX = 120, 255  # Salesforce field lengths


@dataclass
class Export:
    """The records of one export, in file order."""

    opportunities: list[dict[str, str]] = field(default_factory=list)
    tasks: list[dict[str, str]] = field(default_factory=list)


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else date.fromisoformat(str(value)[:10]).isoformat()


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _close_date(record: dict[str, Any], first_seen: date, outcome: tuple[Any, ...] | None) -> date:
    """Outcome day when closed; else the expiring contract's end (renewals); else first seen + 90 days."""
    if outcome is not None:
        return outcome[2].date()
    facts = (record.get("triggers") or [{}])[0].get("evidence", {}).get("facts") or {}
    if facts.get("end_date"):
        return date.fromisoformat(str(facts["end_date"])[:10])
    return first_seen + timedelta(days=CLOSE_AFTER_DAYS)


def amount(record: dict[str, Any], outcome: tuple[Any, ...] | None) -> float | None:
    """The won order's value, else the list price of the offer answering the primary trigger."""
    if outcome is not None and outcome[1] is not None:
        return float(outcome[1])
    offer = next((o for o in record.get("offers") or [] if o.get("rule_id") == record.get("primary_rule")), None)
    return float(offer["price"]) if offer and offer.get("price") is not None else None


def _summary(record: dict[str, Any], link: str) -> str:
    lines = []
    for trig in record.get("triggers") or []:
        conds = trig.get("conditions") or [trig.get("condition") or {}]
        fired = " AND ".join(f"{c.get('field')} {c.get('operator')} {c.get('threshold')} (value {c.get('value')}"
                             f"{' ' + c['unit'] if c.get('unit') else ''})" for c in conds)
        ids = (trig.get("evidence") or {}).get("source_ids") or []
        more = f" (+{len(ids) - 3} more)" if len(ids) > 3 else ""
        lines.append(f"{trig.get('rule_id')}: {fired}; evidence {', '.join(ids[:3])}{more}")
    lines.append(f"Owner: {record.get('owner')} ({record.get('owner_role')}), channel {record.get('channel')}, "
                 f"priority {record.get('priority')}")
    lines.append(f"Cited evidence: {link}")
    return "\n".join(lines)


def _tasks(opp_id: str, record: dict[str, Any], status: str, first_seen: date) -> list[dict[str, str]]:
    steps = STEPS.get(record.get("channel") or "")
    if steps is None:
        raise SdiError(f"opportunity {opp_id} has channel {record.get('channel')!r}, which has no campaign steps",
                       f"channels with steps: {', '.join(STEPS)}")
    priority = record.get("priority") or 0
    level = "High" if priority >= 70 else "Normal" if priority >= 40 else "Low"
    who = f"{record.get('owner')} ({record.get('owner_role')})"
    return [{
        "SDI_Task_Id__c": f"{opp_id}:{step}", WHAT_REF: opp_id,
        "Subject": subject.format(campaign=record.get("campaign")),
        "ActivityDate": _day(first_seen + timedelta(days=days)), "Status": TASK_STATUS.get(status, "Completed"),
        "Priority": level, "Description": f"Step {i} of {len(steps)} for {who} on {record.get('serial')}.",
    } for i, (step, days, subject) in enumerate(steps, 1)]


def build_export(db: MachineFile, stages: dict[str, str], base_url: str, since: date | None = None) -> Export:
    """Sales opportunities (scheduling tasks left out) with their campaign steps, ordered by id."""
    where, params = [f"coalesce(channel, '') <> '{SCHEDULING}'"], []
    if since is not None:
        where.append("(first_seen >= ? OR last_seen >= ? OR resolved_on >= ? OR id IN "
                     "(SELECT opportunity_id FROM outcomes WHERE recorded_at >= ?))")
        params = [since] * 4
    rows = db.sql(f"SELECT id, status, first_seen, data FROM opportunities WHERE {' AND '.join(where)} ORDER BY id",
                  params)
    latest = {r[0]: r for r in db.sql(f"SELECT opportunity_id, value, recorded_at FROM {LATEST_OUTCOMES}")}
    out = Export()
    for opp_id, status, first_seen, data in rows:
        if status not in stages:
            raise SdiError(f"SDI status {status!r} (opportunity {opp_id}) has no CRM stage",
                           "add it to the setting crm.stages in the config file, e.g. "
                           f"crm: {{stages: {{{status}: Closed Lost, …}}}}")
        record = json.loads(data)
        outcome = latest.get(opp_id) if status in ("won", "lost") else None
        link = f"{base_url.rstrip('/')}/ui/opportunity.html?id={opp_id}"
        tasks = _tasks(opp_id, record, status, first_seen)
        pending = next((t for t in tasks if t["Status"] != "Completed"), None)
        out.opportunities.append({
            "SDI_Opportunity_Id__c": opp_id, "Name": f"{record.get('campaign')} – {record.get('serial')}"[:NAME_MAX],
            "StageName": stages[status], "CloseDate": _day(_close_date(record, first_seen, outcome)),
            "Amount": _money(amount(record, outcome)), ACCOUNT_REF: record.get("customer_id") or "",
            "LeadSource": "SDI technician lead" if record.get("primary_rule") == LEAD_RULE else "SDI",
            "NextStep": f"{pending['Subject']} by {pending['ActivityDate']}"[:NEXT_STEP_MAX] if pending else "",
            "Description": _summary(record, link),
        })
        out.tasks += tasks
    return out


def _csv_bytes(fields: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    """Replace the file only when its bytes change (a re-export of the same data leaves it untouched)."""
    if path.is_file() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_export(export: Export, out: Path) -> list[dict[str, Any]]:
    """Write Opportunity.csv, Task.csv and export.json; returns each file's name, rows and sha256."""
    out.mkdir(parents=True, exist_ok=True)
    twin = {"format": "salesforce", "opportunity_fields": list(OPPORTUNITY_FIELDS), "task_fields": list(TASK_FIELDS),
            "opportunities": export.opportunities, "tasks": export.tasks}
    files = {
        "Opportunity.csv": (_csv_bytes(OPPORTUNITY_FIELDS, export.opportunities), len(export.opportunities)),
        "Task.csv": (_csv_bytes(TASK_FIELDS, export.tasks), len(export.tasks)),
        "export.json": ((json.dumps(twin, indent=1, ensure_ascii=False) + "\n").encode("utf-8"),
                        len(export.opportunities) + len(export.tasks)),
    }
    written = []
    for name, (data, count) in files.items():
        _write(out / name, data)
        written.append({"file": name, "rows": count, "sha256": hashlib.sha256(data).hexdigest()})  # the bytes written
    return written
