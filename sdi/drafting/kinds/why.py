"""why: the recommendation and its reasons at once (templates), then one model finding per own history record."""

from __future__ import annotations

from typing import Iterator

from sdi.drafting.kinds.common import Kit, add_facts, find_opportunity, finding_prompt, findings, open_book, own_records
from sdi.drafting.run import DraftRun
from sdi.drafting.templates import offer_sentence, recommendation_sentence, trigger_sentence
from sdi.drafting.types import Draft, Sentence

FINDING_TRIES, FINDINGS_WANTED = 3, 2
# Records tried when none of the first three gave a finding that passed (a why with no history fact was the
# commonest miss of `sdi eval drafts` on a freshly built base: 8 of 30).
EXTRA_TRIES = 2


def compose(kit: Kit, run: DraftRun, opportunity_id: str) -> Iterator[Sentence | Draft]:
    """Why this opportunity, now: every sentence cited."""
    opp = find_opportunity(kit, opportunity_id)
    book = open_book(kit, run, opp.get("customer_id"))
    t_opp, refs = add_facts(book, opp)
    kit.history.add_for_opportunity(book, opp, k_own=FINDING_TRIES + EXTRA_TRIES, k_similar=1)
    run.begin({"opportunity_id": opp["id"], "serial": opp["serial"]}, finding_prompt())
    yield run.add(recommendation_sentence(opp, t_opp), [t_opp], "recommendation")
    for ref, trig in refs.values():
        yield run.add(trigger_sentence(trig, ref), [ref], "reasons")
    offer = offer_sentence(opp, t_opp)
    if offer:
        yield run.add(offer, [t_opp], "offer")
    yield from findings(run, own_records(book), FINDING_TRIES, FINDINGS_WANTED, EXTRA_TRIES)
    yield run.reveal(run.finish())
