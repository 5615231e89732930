"""brief: a technician's pre-visit briefing — templates at once (summary, triggers, history, checks), then model
findings per recent record and talking points, and the sign-up sheet."""

from __future__ import annotations

from typing import Any, Iterator

from sdi.drafting import history
from sdi.drafting.kinds.common import (MAX_TRIGGERS, Kit, NotFound, Refs, add_trigger, advise, fill_points, is_routine,
                                      finding_prompt, findings, open_book)
from sdi.drafting.run import DraftRun
from sdi.drafting.signup import sign_up_sheet
from sdi.drafting.sources import machine_fact
from sdi.drafting.templates import check_sentence_for, talking_point_for, trigger_sentence
from sdi.drafting.types import Draft, Sentence
from sdi.triggers.opportunities import opportunities_for_machine

RECENT, FINDING_TRIES, FINDINGS_WANTED = 3, 3, 1
# When none of the latest records gives a finding that passes the check, two older ones are tried (`sdi eval drafts`
# on 2026-11-28: briefs with a history finding 23/30 with three records only).
OLDER_TRIES = 2
# One talking point from the model, the rest from templates at once: each model call costs ~2-3 s on 2 cores, and
# `sdi eval drafts` on 2026-11-28 (evening host) gave brief p50 9.97 s with two (acceptance 111/169 = 65.7 %).
MAX_POINTS = 1


def compose(kit: Kit, run: DraftRun, serial: str) -> Iterator[Sentence | Draft]:
    """The briefing for one machine."""
    db = kit.db.child()
    as_of = db.data_as_of()
    fact = machine_fact(db, serial, as_of)
    if fact is None:
        raise NotFound(f"no machine {serial}", "check the serial (sdi status shows what is loaded)")
    customer_id = db.scalar("SELECT customer_id FROM machines WHERE serial = ?", [serial])
    book = open_book(kit, run, customer_id)
    t_machine = book.add_fact(fact[0], fact[1], f"machine:{serial}").id
    refs: Refs = {}
    for opp in opportunities_for_machine(db, serial):
        for trig in opp["triggers"]:
            if len(refs) < MAX_TRIGGERS and trig["trigger_id"] not in refs:
                refs[trig["trigger_id"]] = (add_trigger(book, trig).id, trig)
    recent = history.recent_records(db, book, serial, as_of, limit=RECENT)
    run.begin({"serial": serial}, finding_prompt())
    yield run.add(f"{book.items[0].text.rstrip('.')} [{t_machine}].", [t_machine], "summary")
    for ref, trig in refs.values():
        yield run.add(trigger_sentence(trig, ref), [ref], "triggers")
    for src, line in recent:
        yield run.add(f"{line} [{src.id}].", [src.id], "history")
    for ref, trig in refs.values():
        yield run.add(check_sentence_for(trig, ref), [ref], "checks")
    yield from findings(run, [src for src, _ in recent], FINDING_TRIES, FINDINGS_WANTED)
    if len(recent) == RECENT and not any(s.section == "findings" for s in run.sentences):
        older = history.recent_records(db, book, serial, as_of, limit=OLDER_TRIES, skip=len(recent))
        yield from findings(run, [src for src, _ in older if not is_routine(src)], OLDER_TRIES, FINDINGS_WANTED)
    run.fallbacks = {ref: talking_point_for(t, ref) for ref, t in refs.values()}
    run.used -= set(run.fallbacks)  # the sections above cite them; talking points may still use them
    yield from advise(run, refs, "say to the customer on site", MAX_POINTS)
    yield from fill_points(run, refs)
    if recent and sum(1 for s in run.sentences if s.section == "talking_points") < 2:
        src = recent[0][0]
        day, kind = src.text.split(" ", 2)[:2]
        yield run.add(f"Your last service visit was a {kind} on {day}; we can go through what was found then [{src.id}].",
                      [src.id], "talking_points")
    triggers: list[dict[str, Any]] = [t for _, t in refs.values()]
    sheet = sign_up_sheet(db, serial, triggers, recent, kit.price_limit, {t["trigger_id"]: r for r, t in refs.values()})
    yield run.reveal(run.finish(sheet))
