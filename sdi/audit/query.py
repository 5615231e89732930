"""Reading the audit log for people: filters (kind, user, machine, date range), facets, and draft reviews."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Iterator

from sdi.audit.log import AuditLog
from sdi.errors import SdiError

REVIEW = "draft_review"  # the kind of a reviewer's "reviewed" mark; it names the draft, it never edits it
_MAX_DEPTH = 4


@dataclass(frozen=True)
class AuditQuery:
    """What to keep: every set field must match (dates are inclusive, on the entry's UTC day)."""

    kind: str | None = None
    user: str | None = None
    serial: str | None = None
    opportunity_ids: frozenset[str] = field(default_factory=frozenset)  # the machine's opportunities (serial filter)
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise SdiError(f"the date range starts after it ends ({self.since} > {self.until})",
                           "swap the dates, or leave one of them empty")


def _values(payload: Any, key: str, depth: int = 0) -> Iterator[Any]:
    """Every value stored under `key` in a payload, nested dicts and lists included (a few levels deep)."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(payload, dict):
        for k, v in payload.items():
            if k == key:
                yield v
            if isinstance(v, (dict, list)):
                yield from _values(v, key, depth + 1)
    elif isinstance(payload, list):
        for v in payload:
            yield from _values(v, key, depth + 1)


def _about_machine(entry: dict[str, Any], q: AuditQuery) -> bool:
    payload = entry.get("payload")
    if any(v == q.serial for v in _values(payload, "serial")):
        return True
    return bool(q.opportunity_ids) and any(v in q.opportunity_ids for v in _values(payload, "opportunity_id"))


def in_days(entry: dict[str, Any], since: date | None, until: date | None) -> bool:
    """Whether an entry's UTC day lies in since..until (inclusive; None: open)."""
    day = str(entry.get("ts") or "")[:10]
    return (since is None or day >= since.isoformat()) and (until is None or day <= until.isoformat())


def matches(entry: dict[str, Any], q: AuditQuery) -> bool:
    """Whether one entry passes the query."""
    return ((q.kind is None or entry.get("kind") == q.kind)
            and (q.user is None or entry.get("user") == q.user)
            and in_days(entry, q.since, q.until)
            and (q.serial is None or _about_machine(entry, q)))


def facets(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Entries per kind and the users who appear, over the whole log (the filter choices)."""
    kinds: Counter[str] = Counter()
    users: set[str] = set()
    for e in entries:
        kinds[str(e.get("kind"))] += 1
        if e.get("user"):
            users.add(str(e["user"]))
    return {"kinds": dict(sorted(kinds.items())), "users": sorted(users)}


def search(log: AuditLog, q: AuditQuery, limit: int, offset: int) -> dict[str, Any]:
    """Matching entries newest first, one page of them, with the log's facets."""
    everything = log.list()
    found = [e for e in everything if matches(e, q)]
    return {"total": len(found), "items": found[offset:offset + limit], **facets(everything)}


# --- Reviews ---------------------------------------------------------------------------------------------------


def reviews(entries: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Draft id -> its reviews ({audit_id, by, at, note}), oldest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        p = e.get("payload")
        if e.get("kind") == REVIEW and isinstance(p, dict) and p.get("draft"):
            out.setdefault(str(p["draft"]), []).append(
                {"audit_id": e.get("id"), "by": e.get("user"), "at": e.get("ts"), "note": p.get("note")})
    return dict((k, sorted(v, key=lambda r: str(r["at"]))) for k, v in out.items())


def record_review(log: AuditLog, draft: dict[str, Any], note: str | None, user: str) -> dict[str, Any]:
    """Append a reviewer's mark on a draft entry (its id and hash, the note); returns the new entry."""
    if draft.get("kind") != "draft":
        raise SdiError(f"{draft.get('id')} is a {draft.get('kind')} entry, not a draft", "review draft entries only")
    subject = (draft.get("payload") or {}).get("subject") or {}
    payload = {"draft": draft["id"], "draft_hash": draft.get("hash"), "note": note or None,
               "opportunity_id": subject.get("opportunity_id"), "serial": subject.get("serial")}
    return log.append(REVIEW, payload, user)
