"""Items of a service record kept apart: one claim may not join words the record says in separate items."""

from __future__ import annotations

import re

from sdi.drafting.claims.lexicon import (
    EVENT_KINDS, EVENT_NOUNS, FILLER, MACHINE_ID, MACHINE_WORDS, NEGATORS, OK_WORDS, SIDES, WORKING, _is_generic_fault,
    action_class, actor_class, fault_word, stem, state_class, tokens,
)
from sdi.drafting.claims.phrases import _term_in

# A work order lists its items between commas, semicolons and full stops ("CHECKED LIGHT CURTAIN, CHANGED HYD OIL
# FILTER, MACHINE BACK IN PRODUCTION"); its first item is the header ("2023-01-17 maintenance on PB800-000366: …"),
# whose words (the visit's kind, hours, date) belong to every item.
ITEM_BREAKS = {",", ";", ".", "(", ")"}
# A sentence joins its own claims with these; a cause ('due to', 'caused') may join two items of the source.
CLAIM_BREAKS = ITEM_BREAKS | {":", "and", "which", "with", "but", "while", "after", "before", "because", "as", "then",
                              "due", "caused", "causing", "so"}
RECORD = re.compile(r"\d{4}-\d{2}-\d{2} [\w ]+ on ")  # a service record ("2023-01-17 maintenance on …"), not a fact
# An advisor's or a finding's framing, not a thing the note names.
FRAME = {"trusted", "advisor", "site", "scheduled", "specified", "specifications", "within", "beyond", "limit",
         "safety", "shows", "recorded", "following"}
NOT_THINGS = FILLER | MACHINE_WORDS | EVENT_NOUNS | EVENT_KINDS | FRAME | OK_WORDS | NEGATORS


def _split(words: list[str], breaks: set[str]) -> list[list[str]]:
    """The word runs between break words."""
    runs: list[list[str]] = [[]]
    for w in words:
        if w in breaks:
            runs.append([])
        else:
            runs[-1].append(w)
    return [r for r in runs if r]


def _things(words: list[str]) -> list[str]:
    """Stems of the words that name things and states (not deeds, people, the visit, the machine, a fault said of
    anything, or framing)."""
    out = []
    for w in words:
        if not w[0].isalpha() or len(w) < 2 or w in NOT_THINGS or MACHINE_ID.fullmatch(w) or action_class(w) \
                or actor_class(w) or _is_generic_fault(w):
            continue
        out.append(stem(w.removesuffix("'s")))
    return out


def _whole_numbers(text: str) -> str:
    """'1,250.50 EUR' read as one number: its comma and point separate no items."""
    return re.sub(r"(?<=\d)[.,](?=\d)", "", text)


def _items(words: list[str]) -> list[list[str]]:
    """The note's items; one that names no thing but a state or a deed to come ('UPPER TOOL, WORN, TO BE REPL NEXT
    VISIT') or only a side ('FUEL TANK SENDER FAULTY - RH - REPLACE') belongs to the item before it."""
    items: list[list[str]] = []
    for run in _split(words, ITEM_BREAKS):
        if items and (all(state_class(t) for t in _things(run)) or all(w in SIDES for w in run)):
            items[-1] += run
        else:
            items.append(run)
    return items


def _failing(claim: list[str]) -> bool:
    """The claim says something fails ('faulty', 'a problem with', 'not functioning'), not that nothing did."""
    for i, w in enumerate(claim):
        before = claim[max(0, i - 3):i]
        if _is_generic_fault(w) and not any(b in NEGATORS or b == "any" for b in before):
            return True
        if w in WORKING and before[-1:] == ["not"]:
            return True
    return False


def _faulted(run: list[str]) -> bool:
    """An item of the note states a fault of some kind."""
    return any(fault_word(w) for w in run if w[0].isalpha())


def _record_items(cited: str) -> tuple[list[list[str]], list[set[str]]] | None:
    """A service record's items as word runs and as word-and-thing sets (the header first); None for a fact or a
    record of one item."""
    if not RECORD.match(cited):
        return None
    runs = _items(tokens(_whole_numbers(cited)))
    return (runs, [set(_things(run)) | set(run) for run in runs]) if len(runs) >= 2 else None


def mixed_items(sentence: str, cited: str) -> str | None:
    """'the machine back in production was all other axes were OK': one claim made of words from separate items;
    'the alarm screen was not functioning' where the note's item on the alarm screen states no fault."""
    if (record := _record_items(cited)) is None:
        return None
    runs, items = record
    header = items[0]
    for claim in _split(tokens(_whole_numbers(sentence)), CLAIM_BREAKS):
        said = [t for t in dict.fromkeys(_things(claim)) if any(_term_in(t, item) for item in items)]
        if len(said) >= 2 and not any(all(_term_in(t, item | header) for t in said) for item in items):
            return f"joins words of separate items of the source in one claim: '{' '.join(claim)}'"
        if said and _failing(claim) and not any(
                _faulted(run) and all(_term_in(t, item) for t in said) for run, item in zip(runs, items)):
            return f"a fault of {' '.join(said)} that the source's item on it does not state: '{' '.join(claim)}'"
    return None


# Deeds whose object is the thing its own item names ("recommend repl." of the item's part; not a visit's framing).
ITEM_DEEDS = {"replace", "repair", "upkeep", "recommend"}


def deed_of_item(sentence: str, cited: str) -> str | None:
    """'recommended to replace the laser power' over 'chiller dirty, recommend repl. laser power at 98 %': a deed of
    the sentence acts on what the source's item with that deed names, not on a thing of another item."""
    if (record := _record_items(cited)) is None:
        return None
    runs, items = record
    header, deeds = items[0], [{action_class(w) for w in run if w[0].isalpha()} for run in runs]
    for claim in _split(tokens(_whole_numbers(sentence)), CLAIM_BREAKS):
        # A state may come from the part's other item ('the damaged nozzle was replaced'): the things decide.
        said = [t for t in dict.fromkeys(_things([w for w in claim if not fault_word(w)]))
                if any(_term_in(t, item) for item in items[1:])]
        for deed in sorted({action_class(w) for w in claim if w[0].isalpha()} & ITEM_DEEDS):
            homes = [item for item, acts in zip(items[1:], deeds[1:]) if deed in acts]
            if said and homes and not any(all(_term_in(t, item | header) for t in said) for item in homes):
                return f"'{deed}' of {' '.join(said)}: the source's {deed} is of another item ('{' '.join(claim)}')"
    return None
