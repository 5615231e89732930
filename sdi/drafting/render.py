"""Text rendering of a draft: sentences by section, then the numbered sources and the check result."""

from __future__ import annotations

from sdi.drafting.types import Draft

TITLES = {"recommendation": "Recommendation", "reasons": "Why now", "offer": "Offer", "summary": "Machine and contracts",
          "triggers": "Open triggers", "history": "Recent history", "checks": "What to check",
          "talking_points": "Talking points", "answer": "Answer", "findings": "What the service history says", "body": ""}


def render_draft(draft: Draft) -> str:
    """Readable text with [T1]/[H2] markers, the sources they point to, and what the check did."""
    lines = [f"{draft.kind} — {', '.join(f'{k} {v}' for k, v in draft.subject.items() if v)}", ""]
    section = None
    for s in draft.sentences:
        if s.section != section:
            section = s.section
            if TITLES.get(section):
                lines += ["", f"{TITLES[section]}:"]
        marker = "" if s.origin == "llm" else " (template)"
        lines.append(f"  - {s.text}{marker}")
    if draft.sign_up_sheet:
        lines += ["", "Sign-up sheet (fixed prices):"]
        for item in draft.sign_up_sheet:
            cite = f" [{', '.join(item['citations'])}]" if item["citations"] else ""
            lines.append(f"  [ ] {item['name']} ({item['offer_id']}) — {item['price']:,.0f} {item['currency']}, {item['duration']}: {item['reason']}{cite}")
    lines += ["", "Sources:"]
    lines += [f"  [{src.id}] {src.source_id}{' (similar case)' if src.scope == 'similar' else ''}: {src.text}" for src in draft.sources]
    c = draft.check
    lines += ["", f"Check: {c.checked} model sentence(s) checked, {c.passed} passed"
              f"{f' ({c.cut} cut to their first clause)' if c.cut else ''}, {c.repaired} repaired, {c.dropped} dropped."
              f" Model {draft.model['backend']}:{draft.model['name']}; prompt {draft.prompt['name']} v{draft.prompt['version']};"
              f" audit {draft.audit_id}"]
    lines += [f"Note: {n}" for n in draft.notes]
    return "\n".join(lines)
