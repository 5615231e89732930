"""Durable records of drafts (audit entries) and of ask conversations."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from sdi.audit.log import AuditLog, canonical, sha256_text
from sdi.drafting.prompts import PromptTemplate
from sdi.drafting.types import Draft
from sdi.llm.base import Usage
from sdi.store import MachineFile


def record_draft(audit: AuditLog, draft: Draft, prompt: PromptTemplate, calls: list[dict[str, Any]], usage: Usage,
                 user: str | None) -> str:
    """Append the draft with everything needed to re-render and re-check it; returns the audit id.

    `calls` holds every model task (prompt, values, rendered messages, reply, verdict); the top-level prompt fields
    describe the first task so a reviewer can re-render one prompt without reading the list."""
    first = calls[0] if calls else {"values": {}, "messages": [], "params": {}}
    payload: dict[str, Any] = {
        "kind": draft.kind,
        "subject": draft.subject,
        "sources": [{"id": s.id, "source_id": s.source_id, "text": s.text, "sha256": sha256_text(s.text), "scope": s.scope,
                     "span": list(s.span) if s.span else None, "record_ids": s.record_ids} for s in draft.sources],
        "prompt": prompt.meta() | {"template": prompt.body, "system": prompt.system},
        "prompt_values": first["values"],
        "rendered_prompt": first["messages"],
        "rendered_prompt_sha256": sha256_text(canonical(first["messages"])),
        "sent_to_model": any(c["sent"] for c in calls),
        "model": draft.model,
        "params": first["params"],
        "raw_output": "\n".join(c["raw"] for c in calls if c.get("raw")),
        "calls": calls,
        "output": {k: v for k, v in draft.to_dict().items() if k != "audit_id"},
        "check": draft.to_dict()["check"],
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                  "first_token_s": round(usage.first_token_s, 3), "total_s": round(usage.total_s, 3)},
    }
    return audit.append("draft", payload, user)["id"]


def load_turns(db: MachineFile, conversation_id: str) -> tuple[str | None, list[dict[str, Any]]]:
    """(opportunity id, turns) of a conversation, or (None, []) if unknown."""
    row = db.one("SELECT opportunity_id, turns FROM conversations WHERE id = ?", [conversation_id])
    return (row[0], json.loads(row[1])) if row else (None, [])


def save_turn(db: MachineFile, conversation_id: str | None, opportunity_id: str, turn: dict[str, Any]) -> str:
    """Append a question/answer turn; creates the conversation if needed and returns its id."""
    cid = conversation_id or "CV-" + uuid.uuid4().hex[:12]
    _, turns = load_turns(db, cid)
    turns.append(turn)
    with db.transaction():
        db.execute("DELETE FROM conversations WHERE id = ?", [cid])
        db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?)",
                   [cid, opportunity_id, datetime.now(timezone.utc).replace(tzinfo=None), json.dumps(turns)])
    return cid
