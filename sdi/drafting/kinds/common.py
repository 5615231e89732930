"""What the recipes share: the long-lived tools they read, opportunity lookup, [T] facts, talking-point fill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from sdi.drafting import history
from sdi.drafting.history import History
from sdi.drafting.run import DraftRun
from sdi.drafting.sources import SourceBook, opportunity_fact, trigger_fact
from sdi.drafting.templates import talking_point_for, trigger_sentence
from sdi.drafting.types import Source, Sentence
from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.triggers.opportunities import get_opportunity

MAX_TRIGGERS = 4

Refs = dict[str, tuple[str, dict[str, Any]]]  # trigger id -> ([T] source id, trigger)


class NotFound(SdiError):
    """The opportunity, machine or conversation does not exist (the API answers 404)."""


@dataclass(frozen=True)
class Kit:
    """The long-lived things a recipe reads: the machine file, the service history, the technician price limit."""

    db: MachineFile
    history: History
    price_limit: float


def find_opportunity(kit: Kit, opportunity_id: str) -> dict[str, Any]:
    """The opportunity, or NotFound."""
    opp = get_opportunity(kit.db.child(), opportunity_id)
    if opp is None:
        raise NotFound(f"no opportunity {opportunity_id}", "list them with: sdi opportunities")
    return opp


def open_book(kit: Kit, run: DraftRun, customer_id: str | None) -> SourceBook:
    """The run's source book, withholding this customer's contact details."""
    return run.open_book(history.contact_names(kit.db.child(), customer_id))


def add_trigger(book: SourceBook, trigger: dict[str, Any]) -> Source:
    """A trigger as a [T] source: its finding in plain words plus rule, version and records."""
    finding = trigger_sentence(trigger, "x").removesuffix(" [x].")
    return book.add_fact(trigger_fact(trigger, finding), trigger["evidence"]["source_ids"],
                         f"trigger:{trigger['trigger_id']}")


def add_facts(book: SourceBook, opp: dict[str, Any]) -> tuple[str, Refs]:
    """The opportunity fact and its first triggers as [T] sources."""
    t_opp = book.add_fact(opportunity_fact(opp), [f"opportunity:{opp['id']}"], f"opportunity:{opp['id']}").id
    refs = {}
    for trig in opp["triggers"][:MAX_TRIGGERS]:
        refs[trig["trigger_id"]] = (add_trigger(book, trig).id, trig)
    return t_opp, refs


def fill_points(run: DraftRun, refs: Refs, minimum: int = 2) -> Iterator[Sentence]:
    """Template talking points for uncovered triggers until there are at least `minimum` (at most 4)."""
    for ref, trig in refs.values():
        points = [s for s in run.sentences if s.section == "talking_points"]
        if len(points) >= 4 or (len(points) >= minimum and ref in run.used):
            continue
        if ref not in {c for s in points for c in s.citations}:
            yield run.add(talking_point_for(trig, ref), [ref], "talking_points")
