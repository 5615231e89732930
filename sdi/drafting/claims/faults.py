"""Faults, causes and parts: what a fault is said of, causes given or inverted, part names kept whole."""

from __future__ import annotations

import re

from sdi.drafting.claims.extraction import Claims
from sdi.drafting.claims.lexicon import (
    CLAUSE_BREAKS, DEEDS, DETERMINERS, EVENT_KINDS, EVENT_NOUNS, MACHINE_WORDS, NEGATORS, PART_HEADS, PASSIVE,
    PREPOSITIONS, SIDES, WORKING, _is_generic_fault, action_class, actor_class, fault_word, normalise, state_class,
    stem, tokens,
)
from sdi.drafting.claims.phrases import (
    _clause, _clause_before, _content, _first_np, _is_object_word, _names_a_part, _np_start, _runs, _term_in,
)


def action_as_cause(sentence: str) -> str | None:
    """'repaired due to a REFIT TOOTH': a cause that is a deed, not a fault (a garbled work order)."""
    words = tokens(sentence)
    for i, w in enumerate(words[:-1]):
        if (w, words[i + 1]) in (("due", "to"), ("because", "of")):
            j = next((j for j in range(i + 2, min(len(words), i + 5)) if words[j] not in DETERMINERS), None)
            nxt = words[j] if j is not None else ""
            if nxt and action_class(nxt) in DEEDS and not _names_a_part(words, j):
                return f"gives a deed ('{nxt}') as the cause: not supported"
    return None


def cause_by(sentence: str, cited: str) -> str | None:
    """'damaged by ACCESS STAIRS': a fault given a cause (not a doer) the source does not name."""
    words, src = tokens(sentence), tokens(cited)
    for i, w in enumerate(words[:-2]):
        agent = words[i + 3] if words[i + 2] in DETERMINERS and i + 3 < len(words) else words[i + 2]
        if state_class(w) and words[i + 1] == "by" and agent[0].isalpha() and not actor_class(agent) \
                and "by" not in src:
            return f"'{w} by {agent}': a cause the source does not give"
    return None


CAUSE_WORDS = {"cause", "caused", "due", "because", "traced", "reason"}


def part_as_cause(sentence: str, cited: str) -> str | None:
    """'repaired due to a JSA sign': a cause must be a fault, a code or a reading, not the part the work was on
    (unless the source itself gives a cause)."""
    if CAUSE_WORDS & set(tokens(cited)):
        return None
    words = tokens(sentence)
    for i, w in enumerate(words[:-2]):
        if (w, words[i + 1]) not in (("due", "to"), ("because", "of")):
            continue
        phrase = []
        for x in words[i + 2:i + 8]:
            if not x[0].isalnum() or x in CLAUSE_BREAKS or x in ("and", "or"):
                break
            phrase.append(x)
        faulty = any(fault_word(x) or x[0].isdigit() or x in WORKING | NEGATORS | {"alarm"}
                     or actor_class(x) or x in EVENT_NOUNS for x in phrase)
        if phrase and not faulty and [t for t in _content(phrase) if t != "machine"]:
            return f"'due to {' '.join(phrase)}': a part given as the cause, not a fault"
    return None


def _cause_split(text: str) -> tuple[set[str], set[str]] | None:
    """(effect words, cause words) of a source that says 'X - cause: Y' or 'X caused by Y'; None if it gives no cause."""
    words = tokens(text)
    for i, w in enumerate(words):
        if w == "cause" and i + 1 < len(words) and words[i + 1] == ":" or (w, words[i + 1:i + 2]) == ("caused", ["by"]):
            end = i - 1 if i and words[i - 1] in ".;:" else i  # 'X; cause: Y': the clause before that ';'
            effect = [x for x in _clause_before(words, end, end, ".;:") if x[0].isalnum()]
            cause = _clause(words[i + 2:i + 10])
            return set(_content(effect)) - {"machine"}, set(_content(cause)) - {"machine"}
    return None


def cause_inverted(sentence: str, cited: str) -> str | None:
    """'the laser power drop caused contaminated focus lens' over 'laser power drop - cause: contaminated focus
    lens': the sentence turns the source's cause and effect around."""
    split = _cause_split(cited)
    if split is None:
        return None
    effect, cause = split[0] - split[1], split[1] - split[0]  # words both name ('encoder') tell neither apart
    words = tokens(sentence)
    for i, w in enumerate(words):
        if w in ("caused", "causing", "causes", "led", "leading", "resulted", "resulting") and \
                words[i + 1:i + 2] != ["by"]:
            back = _clause_before(words, i, 10, CLAUSE_BREAKS | {".", ";", ":"})
            before = set(_content([x for x in back if x[0].isalnum()])) - {"machine"}
            after = set(_content(_clause(words[i + 1:i + 9]))) - {"machine"}
            if before & effect and not before & cause and after & cause:
                return "turns the source's cause and effect around"
    return None


OK_FINDING = re.compile(r"\b(?:within spec\w*|ok|okay|in order|operational|no defects?)\b")
NOT_OK = re.compile(r"\bnot (?:\w+ ){0,2}?(?:within (?:the )?(?:\w+ )?spec\w*|ok|okay|in order|operational)\b")


def inverted_ok(sentence: str, cited: str) -> str | None:
    """'was not within the specified specifications' where the source says 'everything within spec'."""
    said, src = normalise(sentence), normalise(cited)
    if NOT_OK.search(said) and OK_FINDING.search(src) and not NOT_OK.search(src):
        return "the source's ok-finding is negated"
    return None


def state_attachments(text: str, lenient: bool = False, generic: bool = False) -> list[tuple[str, frozenset[str]]]:
    """(state class, the nouns it is said of) per stated fault: 'broken grease hose on bucket pin' -> hose, not pin.

    Lenient (for the terse source): every noun of the fault's clause ('coil burnt on prop valve' is said of the
    valve too), except what a part broke off or was damaged by. Generic: 'faulty', 'intermittent' count as 'fault'.
    """
    words, out = tokens(text), []
    for i, w in enumerate(words):
        state = state_class(w) or ("fault" if generic and _is_generic_fault(w) else None)
        if not state or any(p in NEGATORS for p in words[max(0, i - 3):i]) or (i and words[i - 1] == "to"):
            continue
        start = _np_start(words, i)
        j = next((j for j in range(i + 1, len(words)) if not _qualifier(words[j])), len(words))
        nxt = words[j] if j < len(words) else "."
        if lenient:
            tail = words[i + 1:i + 8]
            tail = tail[:next((k for k, x in enumerate(tail) if action_class(x) in DEEDS), len(tail))]
            after = [] if nxt in ("off", "by") else _content(tail)  # up to the next deed: 'TOO HIGH - RECOMMEND …'
            nouns = frozenset(_content(words[start:i]) + after) - {"machine"}
            if not nouns and start > 1 and not words[start - 1][0].isalnum():  # 'VIB 7.7 ON MAIN DRIVE. TOO HIGH'
                nouns = frozenset(_content(words[_np_start(words, start - 1):start - 1])) - {"machine"}
            out.append((state, nouns))
            continue
        if _is_object_word(nxt) and nxt not in PREPOSITIONS:  # "a broken grease hose"
            out.append((state, frozenset(_first_np(words[j:j + 6])) - {"machine"}))
            continue
        nps = frozenset(_first_np(words[start:i])) - {"machine"}
        if not nps and nxt in PREPOSITIONS - {"off", "by"}:
            nps = frozenset(_first_np(words[j + 1:j + 7])) - {"machine"}  # "a leak on the boom"
        out.append((state, nps))
    return out


def negated_attachments(text: str, lenient: bool = False) -> list[tuple[str, frozenset[str]]]:
    """(state class, the nouns it is denied of) per 'no leaks' / 'was not leaking'; lenient (the source): the clause
    and the one before it ('hyd system checked, no leaks')."""
    words, out = tokens(text), []
    for i, w in enumerate(words):
        state = state_class(w)
        neg = next((k for k in range(i - 1, max(-1, i - 4), -1) if words[k] in NEGATORS), None)
        if not state or neg is None:
            continue
        start = _np_start(words, neg)
        while start > 0 and words[start - 1] in PASSIVE | {"showed", "shows", "had", "has", "have", "with"}:
            start = _np_start(words, start - 1)
        nouns = [] if words[start] in PREPOSITIONS else _content(words[start:neg])  # 'at the 2000 h service, no …'
        tail = _clause(words[i + 1:i + 6])
        if tail and tail[0] in PREPOSITIONS - {"off", "by"}:
            nouns += _content(tail[1:])
        if lenient and start > 1 and not words[start - 1][0].isalnum():
            j = next((j for j in range(start - 2, -1, -1) if not words[j][0].isalnum()), -1)
            nouns += _content(words[j + 1:start - 1])  # the clause before, its deeds skipped
        out.append((state, frozenset(nouns) - {"machine"}))
    return out


def negation_unsupported(sentence: str, cited: str) -> str | None:
    """'the light curtain was not leaking' over 'checked with operator, no leaks found': a denial said of a part must
    be said of that part by the source."""
    pools: dict[str, set[str]] = {}
    for state, nouns in negated_attachments(cited, lenient=True):
        pools.setdefault(state, set()).update(nouns)
    for state, nouns in negated_attachments(sentence):
        if state in pools and nouns and not any(_term_in(t, pools[state]) for t in nouns):
            return f"'no {state}' is said of {' '.join(sorted(nouns))}; the source does not say it of that"
    return None


def _qualifier(word: str) -> bool:
    """A side or a single letter ('upper', 'H' of 'H-link'): skipped to find the noun a fault word precedes."""
    return word in SIDES or (len(word) == 1 and word.isalpha())


def attachment_unsupported(sentence: str, cited: str) -> str | None:
    """A stated fault must be said of the part the source says it of (a broken hose is not a broken pin)."""
    src = state_attachments(cited, lenient=True)
    pools: dict[str, set[str]] = {}
    for state, nouns in src:
        pools.setdefault(state, set()).update(nouns)
    for state, nouns in state_attachments(sentence):
        pool = pools.get(state)
        if pool and nouns and not any(_term_in(t, pool) for t in nouns):
            return f"'{state}' is said of {' '.join(sorted(nouns))}; the source says it of {' '.join(sorted(pool))}"
    return None


def _restates_fault(sentence: str, src: Claims) -> bool:
    """'a leak …, which is causing oil to leak': the 'cause' only restates a fault the source states (circular)."""
    words = tokens(sentence)
    for i, w in enumerate(words):
        if stem(w) == "caus":
            after = {state_class(x) for x in _clause(words[i + 1:i + 6])} - {None}
            return bool(after) and after <= {s for s, n in src.states if not n}
    return False


def truncated_object(sentence: str, cited: str) -> str | None:
    """'the top radiator' where the source has 'top radiator hose': the part named is the one before the source's
    head noun, a different component."""
    src_runs = _runs(tokens(cited))
    for run in _runs(tokens(sentence)):
        if len(run) < 2:
            continue
        for s_run in src_runs:
            for k in range(len(s_run) - len(run)):
                if s_run[k:k + len(run)] == run and s_run[k + len(run)] in PART_HEADS \
                        and s_run[k + len(run)] not in run:
                    return (f"'{' '.join(run)}' drops the head of the source's "
                            f"'{' '.join(s_run[k:k + len(run) + 1])}' (a different component)")
    return None


CAUSAL = {("due", "to"): "after", ("because", "of"): "after", ("caused", "by"): "after", ("as", "a"): None,
          ("resulting", "in"): "before", ("resulted", "in"): "before", ("led", "to"): "before",
          ("leading", "to"): "before"}
SOURCE_CAUSES = CAUSE_WORDS | {"causing", "result", "resulting", "resulted", "led", "so", "therefore", "hence"}


def _fault_words(window: list[str]) -> set[str]:
    """The fault classes a clause names ('fault' for a generic one or a failure like 'not working')."""
    found = {state_class(w) or ("fault" if _is_generic_fault(w) or w in WORKING else None) for w in window}
    return found - {None}  # type: ignore[return-value]


def added_cause(sentence: str, cited: str) -> str | None:
    """'the gas valve sticking was due to a malfunction', 'stops with E-640, causing a leak': one fault given as the
    cause of another where the source states no cause (a repair 'due to' its fault, or a circular 'leaking, causing
    it to leak', is no new claim)."""
    if SOURCE_CAUSES & set(tokens(cited)):
        return None
    words = tokens(sentence)
    for i, w in enumerate(words[:-1]):
        pair = (w, words[i + 1])
        if pair in CAUSAL and CAUSAL[pair] is not None:
            cut = i + 2
        elif stem(w) == "caus" and w != "cause":
            cut = i + 1
        elif w == "because":
            cut = i + 1
        else:
            continue
        before = _clause_before(words, i, 12, ".;:!?")
        after = _clause(words[cut:cut + 8])
        if any(action_class(x) in DEEDS for x in before) \
                and (pair in (("due", "to"), ("because", "of")) or w == "because"):
            continue  # the reason for a deed: part_as_cause and action_as_cause judge what it is
        left, right = _fault_words(before), _fault_words(after)
        if right and left and (right <= left or left <= right) and "fault" not in left ^ right:
            continue  # circular: the effect restates the fault it follows
        if left or right:
            return f"'{' '.join(words[max(0, i - 3):cut + 3])}': a cause the source does not state"
    return None


QUANTITY_NOUNS = {"set", "pair", "kit", "lot", "number", "couple", "piece", "pieces", "sets", "pairs", "kits", "row"}


def compound_split(sentence: str, cited: str) -> str | None:
    """'a new bucket of teeth' over 'CHANGE BUCKET TEETH': the source's 'bucket teeth' are teeth, not a bucket."""
    words, src = tokens(sentence), tokens(cited)
    pairs = set(zip(src, src[1:]))
    for i, w in enumerate(words[:-2]):
        j = i + 3 if words[i + 2] in DETERMINERS and i + 3 < len(words) else i + 2
        if words[i + 1] == "of" and j < len(words) and w not in QUANTITY_NOUNS and w.isalpha() \
                and words[j].isalpha() and (w, words[j]) in pairs and _is_object_word(w) and _is_object_word(words[j]):
            return f"'{w} of {words[j]}': the source's '{w} {words[j]}' names the {words[j]}"
    return None


def _noun(word: str) -> bool:
    """A content noun or modifier: not a deed, fault, actor, side, machine word, filler or number."""
    return word.isalpha() and _is_object_word(word) and not action_class(word) and not actor_class(word) \
        and word not in MACHINE_WORDS | EVENT_KINDS | EVENT_NOUNS and not _is_generic_fault(word) \
        and not word.endswith(("ly", "ed"))


def moved_modifier(sentence: str, cited: str) -> str | None:
    """'a leak in its oil filter' over 'OIL LEAKS AT P1 / SERVO FILTER': two words of the source joined into a part
    name the source never makes ('oil' belongs to the leak there)."""
    words, src = tokens(sentence), tokens(cited)
    stems = [stem(x) if _noun(x) else None for x in src]
    near = {(stems[k], stems[m]) for k in range(len(src)) for m in range(k + 1, min(len(src), k + 4))
            if stems[k] and stems[m] and all(src[j][0].isalnum() for j in range(k, m + 1))}
    for a, b in zip(words, words[1:]):
        if _noun(a) and _noun(b) and stem(a) in stems and stem(b) in stems and (stem(a), stem(b)) not in near:
            return f"'{a} {b}': the source does not name such a part"
    return None


def event_fault(sentence: str) -> str | None:
    """'repair on PB800-000352 was found to be NOISY': a fault is said of a part, never of the visit or repair (a
    'repair on the upper tool segment was worn' still names its part)."""
    words = tokens(sentence)
    for i, w in enumerate(words[:-1]):
        if w not in PASSIVE:
            continue
        start = _np_start(words, i)
        start -= start > 0 and words[start - 1] in EVENT_KINDS  # 'repair' reads as a deed: take it back in
        subject = [x for x in words[start:i] if x not in DETERMINERS]
        k = i + 1
        while k < len(words) and words[k] in ("found", "to", "be", "also", "very", "too"):
            k += 1
        event = subject and subject[0] in EVENT_KINDS and (len(subject) == 1 or subject[1] in PREPOSITIONS)
        k += k + 1 < len(words) and words[k] == "not"  # 'the repair was found to be not released'
        if event and k < len(words) and (fault_word(words[k]) or words[k - 1] == "not"):
            return f"'{subject[0]} … {words[k]}': a fault is said of a part, not of the {subject[0]}"
    return None


def conjunct_faults(sentence: str, cited: str) -> str | None:
    """'the light curtains and E-stops were not working' where only a light curtain transmitter was: every part a
    fault is said of must be one the source names with a fault."""
    pool = {t for _, nouns in state_attachments(cited, lenient=True, generic=True) for t in nouns}
    words = tokens(sentence)
    for i, w in enumerate(words[:-1]):
        if w not in PASSIVE or not (state_class(words[i + 1]) or words[i + 1] == "not" and i + 2 < len(words)
                                     and words[i + 2] in WORKING):
            continue
        start = _np_start(words, i)
        subject = words[start:i]
        if "and" not in subject or not pool:
            continue
        groups = [g.split() for g in " ".join(subject).split(" and ")]
        if any(x.endswith(("ed", "ing")) or x in PREPOSITIONS for g in groups for x in g):
            continue  # a clause ('the machine stopped with E-640 and the accumulator …'), not a list of parts
        parts = [c for g in groups if (c := [t for t in _content(g) if t != "machine"])]
        missing = [p for p in parts if not _term_in(p[-1], pool)]
        if len(parts) > 1 and missing:
            return f"a fault is said of {' '.join(missing[0])}; the source states none of it"
    return None


def circular_cause(sentence: str, cited: str) -> str | None:
    """'the finger was broken, causing a broken finger': an effect that names the cause's own part and fault."""
    words = tokens(sentence)
    for i, w in enumerate(words):
        if w not in ("causing", "caused", "causes", "resulting") or words[i + 1:i + 2] == ["by"]:
            continue
        before = _clause_before(words, i, 12, CLAUSE_BREAKS | {".", ";", ":"})
        after = _clause(words[i + 1:i + 10])
        parts = set(_content([x for x in after if not state_class(x)])) - {"machine"}
        states = {state_class(x) for x in after} - {None}
        if parts and states and parts <= set(_content(before)) and states <= {state_class(x) for x in before}:
            return "the effect restates its cause (the same part and fault on both sides)"
    return None


# 'coil burnt on prop valve y1': a part in a state, then where it sits.
HOLDER_ON = re.compile(r"\b([a-z][a-z0-9]+) ([a-z]+(?:ed|nt|rn|en)|loose|dirty|faulty|noisy|slack|flat) "
                       r"(?:on|at|in|@) (?:the )?([a-z][a-z0-9/ -]{1,40})")


def state_of_place(sentence: str, cited: str) -> str | None:
    """'the prop valve y1 was burnt' over 'coil burnt on prop valve y1': the state is the coil's, not its place's."""
    said = " ".join(tokens(sentence))
    for m in HOLDER_ON.finditer(" ".join(tokens(cited))):
        holder, state, place = m.group(1), m.group(2), m.group(3).split()
        if not (_noun(holder) and state_class(state)) or holder in DETERMINERS or stem(holder) in map(stem, said.split()):
            continue
        where = " ".join(place[:3])
        if re.search(rf"\b{re.escape(where)} (?:was|were|is|are) (?:found )?(?:to be )?{re.escape(state)}\b", said):
            return f"'{where} … {state}': in the source the {holder} on the {where} is {state}"
    return None
