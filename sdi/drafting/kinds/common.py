"""What the recipes share: the long-lived tools they read, opportunity lookup, [T] facts, talking-point fill."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from sdi.drafting import history
from sdi.drafting.history import History
from sdi.drafting.prompts import PromptTemplate, load_prompt
from sdi.drafting.run import DraftRun
from sdi.drafting.sources import SourceBook, opportunity_fact, trigger_fact
from sdi.drafting.tasks import record_values
from sdi.drafting.templates import talking_point_for, trigger_sentence
from sdi.drafting.types import Source, Sentence
from sdi.errors import SdiError
from sdi.store import MachineFile
from sdi.triggers.notelead import find_leads
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


def own_records(book: SourceBook) -> list[Source]:
    """The [H] sources from this machine's own history (not similar machines'), in the order they were added."""
    return [s for s in book.items if s.id.startswith("H") and s.scope == "own"]


ROUTINE_TYPES = ("maintenance", "inspection")
_HEADER = re.compile(r"^\S+ (\w+) on ")


def is_routine(src: Source) -> bool:
    """A maintenance or inspection record that asks for or recommends nothing."""
    kind = _HEADER.match(src.text)
    return bool(kind and kind.group(1) in ROUTINE_TYPES) and not find_leads(src.text.split(": ", 1)[-1])


def notable_first(records: list[Source]) -> list[Source]:
    """Records that ask for or recommend something first, routine maintenance and inspections last, otherwise in
    the given order: what a customer asked for and a technician recommended is what a rep needs, and a routine
    record has no finding for the model to report (it tends to invent a fault there)."""
    def rank(src: Source) -> int:
        body = src.text.split(": ", 1)[-1]
        if find_leads(body):
            return 0
        kind = _HEADER.match(src.text)
        return 2 if kind and kind.group(1) in ROUTINE_TYPES else 1

    return sorted(records, key=rank)


def finding_candidates(records: list[Source]) -> list[Source]:
    """The records a finding is drafted from, notable first; routine ones only when the history holds nothing else."""
    # A routine record has nothing to find for a rep, and the small model invents a fault or an "ok" there
    # (`sdi eval drafts` on 2026-11-28: acceptance 58 % with routine records tried last, 64 % without; copies 8 % both).
    ranked = notable_first(records)
    return [src for src in ranked if not is_routine(src)] or ranked


# A v2 that told the model "if the record names no fault, say only what was done" was measured with
# `sdi eval drafts` on 2026-11-28: acceptance 49 % (v1: 58 %), copies 16 % (v1: 8 %); not adopted.
FINDING_VERSION = 1


def finding_prompt() -> PromptTemplate:
    """The finding task's prompt file in use."""
    return load_prompt("finding", FINDING_VERSION)


def findings(run: DraftRun, records: list[Source], tries: int, want: int, extra: int = 0) -> Iterator[Sentence]:
    """One model finding per record (what the visit found, and a request or recommendation only if it says so),
    over at most `tries` records, notable ones first, until `want` findings passed the check; when none of those
    passed, over up to `extra` more notable records."""
    prompt = finding_prompt()
    passed = 0
    for i, src in enumerate(finding_candidates(records)[:tries + extra]):
        if i >= tries and (passed or is_routine(src)):
            return
        sentence = run.task(prompt, record_values(src), src.id, "findings")
        if sentence is not None:
            passed += 1
            yield sentence
        if passed >= want:
            return


def advise(run: DraftRun, refs: Refs, audience: str, limit: int) -> Iterator[Sentence]:
    """Each trigger's checked finding rephrased in an advisor's voice (the template point replaces a failure)."""
    prompt = load_prompt("advise")
    for ref, trig in list(refs.values())[:limit]:
        fact = trigger_sentence(trig, ref).removesuffix(f" [{ref}].")
        sentence = run.task(prompt, {"fact": fact, "audience": audience}, ref, "talking_points")
        if sentence is not None:
            yield sentence


def fill_points(run: DraftRun, refs: Refs, minimum: int = 2) -> Iterator[Sentence]:
    """Template talking points for uncovered triggers until there are at least `minimum` (at most 4)."""
    for ref, trig in refs.values():
        points = [s for s in run.sentences if s.section == "talking_points"]
        if len(points) >= 4 or (len(points) >= minimum and ref in run.used):
            continue
        if ref not in {c for s in points for c in s.citations}:
            yield run.add(talking_point_for(trig, ref), [ref], "talking_points")
