"""Compliance reads of the audit log: filters, reviews, and bundles of a date range that verify on their own."""

from __future__ import annotations

import json
from datetime import date
from itertools import count
from pathlib import Path

import pytest

import sdi.audit.log as audit_log
from sdi.audit.bundle import export_bundle, verify_bundle
from sdi.audit.log import AuditLog
from sdi.audit.query import AuditQuery, matches, record_review, reviews, search
from sdi.errors import SdiError


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    """Six entries over three days (two a day): a draft, status changes, a lead, a trigger run."""
    days = iter(["2026-03-01", "2026-03-01", "2026-03-02", "2026-03-02", "2026-03-03", "2026-03-03", *["2026-03-04"] * 9])
    minute = count()
    monkeypatch.setattr(audit_log, "now_iso", lambda: f"{next(days)}T10:{next(minute):02d}:00+00:00")
    made = AuditLog(tmp_path / "home")
    made.append("triggers_run", {"as_of": "2026-03-01"})
    made.append("draft", {"kind": "why", "subject": {"opportunity_id": "OPP-1", "serial": "M1"}}, "rep")
    made.append("status", {"opportunity_id": "OPP-1", "status": "in_progress"}, "rep")
    made.append("lead", {"serial": "M2", "observed": "leak"}, "tech")
    made.append("status", {"opportunity_id": "OPP-9", "status": "dismissed"}, "rep")
    made.append("outcome", {"opportunity_id": "OPP-1", "result": "won"}, "admin")
    return made


def test_filters_by_kind_user_machine_and_days(log: AuditLog) -> None:
    ids = lambda q: [e["id"] for e in log.list() if matches(e, q)]  # noqa: E731
    assert ids(AuditQuery(kind="status")) == ["A-0000005", "A-0000003"]
    assert ids(AuditQuery(user="tech")) == ["A-0000004"]
    # a machine: entries naming its serial, and those about its opportunities
    assert ids(AuditQuery(serial="M1", opportunity_ids=frozenset({"OPP-1"}))) == ["A-0000006", "A-0000003", "A-0000002"]
    assert ids(AuditQuery(since=date(2026, 3, 2), until=date(2026, 3, 2))) == ["A-0000004", "A-0000003"]
    page = search(log, AuditQuery(user="rep"), limit=2, offset=1)
    assert page["total"] == 3 and [e["id"] for e in page["items"]] == ["A-0000003", "A-0000002"]
    assert page["kinds"]["status"] == 2 and page["users"] == ["admin", "rep", "tech"]
    with pytest.raises(SdiError, match="starts after it ends"):
        AuditQuery(since=date(2026, 3, 3), until=date(2026, 3, 1))


def test_a_review_is_its_own_entry_naming_the_draft_and_its_hash(log: AuditLog) -> None:
    draft = log.get("A-0000002")
    made = record_review(log, draft, "sources read", "officer")
    assert made["kind"] == "draft_review" and made["payload"]["draft_hash"] == draft["hash"]
    assert log.get("A-0000002") == draft and log.verify().ok
    assert reviews(log.entries())["A-0000002"][0]["by"] == "officer"
    with pytest.raises(SdiError, match="not a draft"):
        record_review(log, log.get("A-0000003"), None, "officer")


def test_a_bundle_of_some_days_verifies_alone_and_catches_an_edit(log: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "range"
    manifest = export_bundle(log, out, since=date(2026, 3, 2), until=date(2026, 3, 2))
    assert manifest["entries"] == 2 and manifest["range"]["first"] == "A-0000003" and manifest["range"]["after"] == 2
    check = verify_bundle(out)
    assert check.ok and "A-0000003..A-0000004 of 6" in check.chain.note, check.to_dict()
    tail = verify_bundle(_export(log, tmp_path / "tail", since=date(2026, 3, 3)))
    assert tail.ok, tail.to_dict()  # reaches the end: its last entry is checked against the head anchor too
    lines = (out / "audit.jsonl").read_text().splitlines()
    edited = json.loads(lines[0])
    edited["payload"]["status"] = "won"
    (out / "audit.jsonl").write_text("\n".join([json.dumps(edited), *lines[1:]]) + "\n")
    broken = verify_bundle(out)
    assert not broken.ok and broken.chain.first_bad == "A-0000003"
    with pytest.raises(SdiError, match="no audit entries"):
        export_bundle(log, tmp_path / "none", since=date(2027, 1, 1))


def _export(log: AuditLog, out: Path, **days: date) -> Path:
    export_bundle(log, out, **days)
    return out
