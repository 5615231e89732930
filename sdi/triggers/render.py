"""Text rendering of trigger runs and opportunity lists."""

from __future__ import annotations

from typing import Any

from sdi.triggers.explain import condition_phrase
from sdi.triggers.service import StageResult

ROLE_TAGS = {"technician": " (tech)", "sales_rep": " (rep)"}  # a service-team owner names itself


def _said(trigger: dict[str, Any]) -> str:
    """The trigger's conditions as its rule's sentences."""
    return "; ".join(condition_phrase(c, trigger).plain() for c in trigger.get("conditions") or [trigger["condition"]])


def render_run(result: StageResult, examples: int = 2) -> str:
    """Counts per rule with an example trigger each, and what happened to opportunities."""
    run = result.run
    lines = [f"Triggers as of {run.as_of} over {run.machines:,} machines (rules file {run.rules_version})", ""]
    lines.append(f"  {'rule':<18} {'fired':>7} {'not evaluable':>14} {'held back':>10}  campaign")
    for rule_id, c in run.counts().items():
        lines.append(f"  {rule_id:<18} {c['fired']:>7,} {c['not_evaluable']:>14,} {c['suppressed']:>10,}  "
                     f"{result.rules.rules[rule_id].campaign}")
    lines.append("")
    shown: dict[str, int] = {}
    for trig in run.triggers:
        if shown.get(trig.rule_id, 0) >= examples:
            continue
        shown[trig.rule_id] = shown.get(trig.rule_id, 0) + 1
        ids = ", ".join(trig.evidence["source_ids"][:4])
        more = len(trig.evidence["source_ids"]) - 4
        lines.append(f"  {trig.serial} {trig.rule_id}: {_said(trig.to_dict())} · evidence {ids}{f' (+{more})' if more > 0 else ''}")
    if result.sync:
        s = result.sync
        lines += ["", f"Opportunities: {s.new:,} new, {s.updated:,} updated, {s.reopened:,} reopened, {s.resolved:,} marked resolved"]
    else:
        lines += ["", "Point-in-time run: opportunities left as they are (use --store to sync them)."]
    return "\n".join(lines)


def render_suppressed(result: StageResult) -> str:
    """Triggers held back (resolved or covered), each with the record that did it and why."""
    run = result.run
    if not run.suppressed:
        return f"No triggers held back as of {run.as_of}."
    lines = [f"{len(run.suppressed):,} triggers held back as of {run.as_of} (resolved or covered by a record):", ""]
    for trig in run.suppressed:
        for by in trig.evidence["suppressed_by"]:
            lines.append(f"  {trig.serial:<16} {trig.rule_id:<16} {trig.status:<8} {by['source_id']} "
                         f"({by['date']}): {by['reason']}")
    lines += ["", "What resolves each rule:"]
    lines += [f"  {r.rule_id}: {r.resolution or '(not stated)'}" for r in result.rules.registered]
    return "\n".join(lines)


def render_opportunities(items: list[dict[str, Any]], limit: int) -> str:
    """One line per opportunity, best first."""
    if not items:
        return "No opportunities (run `sdi triggers` after importing data)."
    lines = [f"{len(items):,} opportunities, best first:", ""]
    lines.append(f"  {'id':<14} {'prio':>5} {'serial':<16} {'territory':<10} {'owner':<24} {'channel':<14} {'status':<11} campaign (+linked)")
    for o in items[:limit]:
        linked = f" (+{', '.join(o['linked_campaigns'])})" if o["linked_campaigns"] else ""
        who = o["owner"] + ROLE_TAGS.get(o["owner_role"], "")
        lines.append(
            f"  {o['id']:<14} {o['priority']:>5.1f} {o['serial']:<16} {str(o['territory'])[:10]:<10} "
            f"{who[:24]:<24} {o['channel']:<14} {o['status']:<11} {o['campaign']}{linked}"
        )
    if len(items) > limit:
        lines.append(f"  … {len(items) - limit:,} more (--limit or --json)")
    return "\n".join(lines)
