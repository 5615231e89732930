"""Drafts for compliance review, read from the audit log: filters, summaries and the full record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdi.audit.log import AuditLog
from sdi.audit.query import reviews


@dataclass
class DraftFilter:
    """Query options of the compliance draft list."""

    kind: str | None = None
    serial: str | None = None
    opportunity_id: str | None = None
    user: str | None = None
    model: str | None = None
    check: str | None = None  # clean | flagged
    since: str | None = None  # ISO date, inclusive
    until: str | None = None
    q: str | None = None
    reviewed: bool | None = None  # None: all drafts
    limit: int = 50
    offset: int = 0


def _check(payload: dict[str, Any]) -> dict[str, Any]:
    check = payload.get("check") or (payload.get("output") or {}).get("check") or {}
    return {k: check.get(k, 0) for k in ("checked", "passed", "repaired", "dropped")}


def summary(entry: dict[str, Any]) -> dict[str, Any]:
    """One line of the compliance list."""
    p = entry.get("payload") or {}
    output = p.get("output") or {}
    subject = p.get("subject") or {}
    prompt = p.get("prompt") or {}
    model = p.get("model") or {}
    check = _check(p)
    return {
        "audit_id": entry["id"], "ts": entry["ts"], "user": entry.get("user"), "kind": p.get("kind"),
        "opportunity_id": subject.get("opportunity_id"), "serial": subject.get("serial"),
        "question": subject.get("question"),
        "model": {k: model.get(k) for k in ("backend", "name")},
        "prompt": {k: prompt.get(k) for k in ("name", "version", "sha256")},
        "check": check, "flagged": bool(check["repaired"] or check["dropped"]),
        "sentences": len(output.get("sentences") or []), "sources": len(p.get("sources") or []),
        "first_sentence": ((output.get("sentences") or [{}])[0]).get("text"),
    }


def _matches(s: dict[str, Any], f: DraftFilter) -> bool:
    day = (s["ts"] or "")[:10]
    tests = (
        (f.kind, lambda: s["kind"] == f.kind),
        (f.serial, lambda: s["serial"] == f.serial),
        (f.opportunity_id, lambda: s["opportunity_id"] == f.opportunity_id),
        (f.user, lambda: s["user"] == f.user),
        (f.model, lambda: f.model in (s["model"]["name"] or "", s["model"]["backend"] or "")),
        (f.check, lambda: s["flagged"] == (f.check == "flagged")),
        (f.since, lambda: day >= (f.since or "")),
        (f.until, lambda: day <= (f.until or "")),
        (f.q, lambda: (f.q or "").lower() in " ".join(str(v) for v in (s["first_sentence"], s["question"], s["serial"],
                                                                         s["opportunity_id"], s["user"])).lower()),
    )
    return all(test() for value, test in tests if value)


def list_drafts(audit: AuditLog, f: DraftFilter) -> dict[str, Any]:
    """Draft entries newest first, filtered and paged."""
    entries = audit.list()
    marks = reviews(entries)
    listed = (summary(e) | {"reviews": marks.get(e["id"], [])} for e in entries if e.get("kind") == "draft")
    found = [s for s in listed if _matches(s, f) and (f.reviewed is None or bool(s["reviews"]) == f.reviewed)]
    return {"total": len(found), "items": found[f.offset:f.offset + f.limit]}


def draft_detail(audit: AuditLog, audit_id: str) -> dict[str, Any] | None:
    """The full draft record: prompt (version, template, rendered), model, sources, check, output, chain hashes."""
    entry = audit.get(audit_id)
    if entry is None or entry.get("kind") != "draft":
        return None
    return {"summary": summary(entry) | {"reviews": reviews(audit.entries()).get(audit_id, [])}, "entry": entry}
