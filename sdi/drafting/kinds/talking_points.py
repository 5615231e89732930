"""talking_points: each trigger's finding rephrased for an e-mail or a call, then template points where needed."""

from __future__ import annotations

from typing import Iterator

from sdi.drafting.kinds.common import Kit, add_facts, advise, fill_points, find_opportunity, open_book
from sdi.drafting.prompts import load_prompt
from sdi.drafting.run import DraftRun
from sdi.drafting.templates import talking_point_for
from sdi.drafting.types import Draft, Sentence
from sdi.errors import SdiError

CHANNELS = {"email": "write to the customer in an e-mail", "call": "say to the customer on a call"}
MAX_POINTS = 3


def compose(kit: Kit, run: DraftRun, opportunity_id: str, channel: str = "email") -> Iterator[Sentence | Draft]:
    """Talking points for the opportunity over the given channel."""
    if channel not in CHANNELS:
        raise SdiError(f"unknown channel {channel!r}", "use email or call")
    opp = find_opportunity(kit, opportunity_id)
    book = open_book(kit, run, opp.get("customer_id"))
    _, refs = add_facts(book, opp)
    kit.history.add_for_opportunity(book, opp, k_own=2, k_similar=0)
    run.begin({"opportunity_id": opp["id"], "serial": opp["serial"], "channel": channel}, load_prompt("advise"))
    run.fallbacks = {ref: talking_point_for(t, ref) for ref, t in refs.values()}
    yield from advise(run, refs, CHANNELS[channel], MAX_POINTS)
    yield from fill_points(run, refs)
    yield run.reveal(run.finish())
