"""Re-run today's claim check on a recorded draft: what a compliance reviewer asks of an old audit entry."""

from __future__ import annotations

from typing import Any

from sdi.drafting.compose import judge
from sdi.drafting.checker import check_sentence
from sdi.errors import SdiError


def recheck(entry: dict[str, Any]) -> dict[str, Any]:
    """Each recorded sentence with today's verdict against the sources recorded with it (templates: ids and values)."""
    if entry.get("kind") != "draft":
        raise SdiError(f"audit entry {entry.get('id')} is a {entry.get('kind')} entry, not a draft",
                       "recheck a draft: sdi audit list --kind draft")
    payload = entry["payload"]
    sources = {s["id"]: s["text"] for s in payload["sources"]}
    rows = []
    for s in payload["output"]["sentences"]:
        model = s["origin"] == "llm"
        verdict = judge(s["text"], sources) if model else check_sentence(s["text"], sources, min_support=0.0)
        rows.append({"text": s["text"], "origin": s["origin"], "section": s.get("section"), "ok": verdict.ok,
                     "reason": verdict.reason})
    failed = [r for r in rows if not r["ok"]]
    return {"audit_id": entry["id"], "sentences": rows, "checked": len(rows), "failed": len(failed),
            "model_sentences": sum(r["origin"] == "llm" for r in rows)}
