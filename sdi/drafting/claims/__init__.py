"""Claim support: who did what to which part (side, state, negation) must be said by the cited text."""

from __future__ import annotations

from sdi.drafting.claims.dates import date_mentions, dates_in, scrub_dates, years_in
from sdi.drafting.claims.deeds import (
    conjunct_objects, denied_deed, fitted_with, found_fitted, frequency_moved, infinitive_done, machine_is_part,
    new_part, participle_noun, planned_deed, repaired_to,
)
from sdi.drafting.claims.degeneracy import degenerate, pasted
from sdi.drafting.claims.extraction import Claims, extract
from sdi.drafting.claims.items import deed_of_item, mixed_items
from sdi.drafting.claims.faults import (
    _restates_fault, action_as_cause, added_cause, attachment_unsupported, cause_by, cause_inverted, circular_cause,
    compound_split, conjunct_faults, event_fault, inverted_ok, moved_modifier, negation_unsupported, part_as_cause,
    state_attachments, state_of_place, truncated_object,
)
from sdi.drafting.claims.lexicon import DEEDS, HEAD_ACTIONS, _one_edit, action_class, normalise, stem, tokens
from sdi.drafting.claims.phrases import _term_in
from sdi.drafting.claims.quantities import (
    code_as_part, number_frame_unsupported, number_frames, part_number_as_value, quantity_changed,
)
from sdi.drafting.claims.roles import (
    asker_inverted, deed_by_thing, doer_changed, downtime_of_part, event_replaced, event_subject, machine_as_client,
    machine_fails, machine_state, offer_turned, part_as_doer, recipient_changed, recipients, visit_by_client,
)

__all__ = [
    "action_class", "date_mentions", "dates_in", "degenerate", "extract", "normalise", "number_frames", "recipients",
    "scrub_dates", "state_attachments", "stem", "unsupported_claim", "years_in",
]

# Claims about how the sentence's parts hang together (numbers, causes, fitted parts, faults, modality).
STRUCTURE_CHECKS = (machine_fails, machine_state, machine_is_part, part_as_cause, recipient_changed, conjunct_objects,
                    offer_turned, found_fitted, number_frame_unsupported, cause_by, fitted_with, attachment_unsupported,
                    planned_deed, new_part, truncated_object, quantity_changed, inverted_ok, added_cause,
                    conjunct_faults, compound_split, negation_unsupported, asker_inverted, cause_inverted,
                    moved_modifier, denied_deed, part_number_as_value, frequency_moved, circular_cause, mixed_items,
                    doer_changed, state_of_place, visit_by_client, deed_of_item,
                    infinitive_done, downtime_of_part, code_as_part)


def unsupported_claim(sentence: str, cited: str) -> str | None:
    """The first claim of the sentence the cited text does not make, or None when every claim is supported."""
    why = degenerate(sentence, cited) or ("pastes the source text after a label" if pasted(sentence, cited) else None) \
        or action_as_cause(sentence) or event_subject(sentence) or machine_as_client(sentence) \
        or repaired_to(sentence) or event_replaced(sentence) or participle_noun(sentence) or part_as_doer(sentence) \
        or deed_by_thing(sentence) or event_fault(sentence)
    if why:
        return why
    said, src = extract(sentence), extract(cited)
    return _core_unsupported(said, src) \
        or next((r for check in STRUCTURE_CHECKS if (r := check(sentence, cited))), None) \
        or _terms_unsupported(sentence, cited, said, src)


def _core_unsupported(said: Claims, src: Claims) -> str | None:
    """Side, actor, denial, finding, state and action claims of the sentence the source does not make."""
    for side in sorted(said.sides - src.sides):
        return f"side '{side}' is not supported by the source"
    for actor in sorted(said.actors - src.actors - {"technician"}):
        return f"actor '{actor}' is not supported by the source"
    for action in sorted(said.denied - src.denied):
        return f"says '{action}' did not happen; the source does not say so"
    for state, negated in said.states:
        reason = _state_unsupported(state, negated, src)
        if reason:
            return reason
    if said.negative_finding and not src.negative_finding:
        return "an ok / no-fault finding is not supported by the source"
    for action, actor, modal, obj, head, kind in said.actions:
        reason = _action_unsupported(action, actor, modal, obj, src, kind) or _head_unsupported(action, head, src)
        if reason:
            return reason
    return None


def _terms_unsupported(sentence: str, cited: str, said: Claims, src: Claims) -> str | None:
    """Content words of the sentence the source does not use (a circular 'causing it to leak' excepted)."""
    src_terms = set(src.terms) | {stem(t) for t in tokens(cited) if t[0].isalpha()}
    missing = [t for t in dict.fromkeys(said.terms) if not _term_in(t, src_terms)
               and not (t == "caus" and _restates_fault(sentence, src))]
    return f"not supported by the source: {', '.join(missing[:4])}" if missing else None


def _state_unsupported(state: str, negated: bool, src: Claims) -> str | None:
    if negated:
        if any(s == state and n for s, n in src.states):
            return None
        if any(s == state for s, _ in src.states):  # 'the belt was not noisy' over 'BELT NOISY … TEST RUN OK'
            return f"the source states '{state}'; the sentence's negation inverts it"
        if src.negative_finding:
            return None
        return f"negation 'no {state}' is not supported by the source"
    if state == "fault":
        if any(not n for _, n in src.states):
            return None
        return "a fault is not supported by the source (it reports none)"
    if any(s == state and not n for s, n in src.states):
        return None
    if any(s == state for s, _ in src.states):
        return f"the source negates '{state}' (dropped negation)"
    return f"state '{state}' is not supported by the source"


def _action_unsupported(action: str, actor: str | None, modal: bool, obj: frozenset[str], src: Claims,
                        kind: str = "") -> str | None:
    if action == "find" or (action == "report" and actor in (None, "technician")):
        return None
    if actor == "machine":
        return f"the machine is named as the one who did '{action}' (not supported)"
    same = [a for a in src.actions if a[0] == action or (action == "fix" and a[0] in ("repair", "replace", "upkeep"))]
    if action == "check" and not same and src.negative_finding:
        return None
    if not same:
        return f"action '{action}' is not supported by the source"
    if action == "upkeep" and kind != action:
        same = [a for a in same if a[5] in (kind, action)]
        if not same:
            return f"'{kind}' is not supported by the source (it records other upkeep)"
    if actor and actor != "technician":
        if not any(a[1] == actor for a in same):
            return f"'{actor} {action}' is not supported by the source"
    elif actor == "technician" and not any(a[1] in (None, "technician") for a in same):
        return f"'{action}' by the technician is not supported (the source names {same[0][1]})"
    if not modal and all(a[2] for a in same):
        return f"'{action}' is only planned or recommended in the source, not done"
    if obj and not any(_object_match(action, obj, a[3]) for a in same) and not _header_covers(obj, src):
        return f"'{action}' of {' '.join(sorted(obj))} is not supported by the source"
    return None


def _header_covers(obj: frozenset[str], src: Claims) -> bool:
    """A note that names no deed of its own ('R/H rear worklight & revolving light') is the work of its header's
    'repair on excavator D': that deed acts on the parts the note names."""
    deeds = [a for a in src.actions if a[0] in DEEDS]
    return bool(deeds) and all(a[3] <= {"machine"} for a in deeds) \
        and all(_term_in(t, set(src.terms)) for t in obj - {"machine"})


def _head_unsupported(action: str, head: tuple[str, ...], src: Claims) -> str | None:
    """The sentence's object noun (not what it sits on) must be the noun the source's action acts on."""
    if action not in HEAD_ACTIONS or not head:
        return None
    heads = [a[4] for a in src.actions if a[0] == action and a[4]]
    if not heads:
        return None
    same = [h for h in heads if any(_term_in(t, set(h)) for t in head[-1:])]
    if not same:
        return f"'{action}' of {' '.join(sorted(head))}: the source's {action} acts on {' '.join(sorted(heads[0]))}"
    nouns = [_head_noun(h) for h in same]
    if all(n and not (_term_in(n, set(head)) or any(_one_edit(n, t) for t in head)) for n in nouns):
        return f"'{action}' of {' '.join(head)}: the source's {action} acts on a {nouns[0]} (the object is cut short)"
    return None


def _head_noun(phrase: tuple[str, ...]) -> str | None:
    """The last word of a noun phrase that is a word ('murphy gauges' -> gaug; not 'Y2', '30MM')."""
    return next((t for t in reversed(phrase) if t.isalpha() and len(t) > 2), None)


def _object_match(action: str, said: frozenset[str], src: frozenset[str]) -> bool:
    """Some object term of the sentence is in the source's object (the part, not the machine, when a part is named).

    The machine itself may be repaired, checked or serviced, but a record that replaces a part never replaces it.
    """
    parts = said - {"machine"}
    if not parts and action != "replace":
        return True
    return not src or any(_term_in(t, set(src)) for t in (parts or said))
