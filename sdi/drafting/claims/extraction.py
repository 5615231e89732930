"""What one text claims: actions with actor and object, states, sides, negations and content terms."""

from __future__ import annotations

from dataclasses import dataclass, field

from sdi.drafting.claims.lexicon import (
    ACTIONS, ACTOR_MODIFIERS, DEEDS, DENIABLE, DETERMINERS, FILLER, FRAMING, INFORM, MACHINE_ID, MACHINE_WORDS, MODAL,
    MODAL_AFTER, NEGATORS, OK_WORDS, PASSIVE, PURPOSE, RECIPIENT_CUES, SIDES, WORKING, _class, _is_generic_fault,
    _one_edit, action_class, actor_class, state_class, stem, tokens, upkeep_kind,
)
from sdi.drafting.claims.phrases import _clause, _content, _first_np, _machine_before, _names_a_part, _np_start


@dataclass
class Claims:
    """What one text says: actions (with actor and object terms), states, sides, negations, content terms."""

    # (action class, actor or None, planned/recommended rather than done, object stems, head noun phrase stems,
    #  the kind of upkeep or else the class: 'lubricate' ≠ 'clean' ≠ 'adjust')
    actions: list[tuple[str, str | None, bool, frozenset[str], tuple[str, ...], str]] = field(default_factory=list)
    states: list[tuple[str, bool]] = field(default_factory=list)  # class, negated
    sides: set[str] = field(default_factory=set)
    negative_finding: bool = False
    terms: list[str] = field(default_factory=list)  # content stems in order
    actors: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)  # deeds said not to have happened ("never replaced")


def extract(text: str) -> Claims:
    """The claims of a text (sentence or source)."""
    words = tokens(text)
    claims = Claims()
    for i, tok in enumerate(words):
        if not tok[0].isalpha():
            continue
        prev = words[max(0, i - 3):i]
        negated = any(p in NEGATORS for p in prev) or (i + 1 < len(words) and words[i + 1] == "free")
        actor = actor_class(tok)
        if actor:
            addressee = words[i - 1] in FRAMING or (i > 1 and words[i - 1] == "the" and words[i - 2] in FRAMING)
            if not addressee and not _possessive(tok):  # "the customer's machine" names the owner, not a doer
                claims.actors.add(actor)
            continue
        if tok == "back" and i + 1 < len(words) and words[i + 1] in ("in", "to", "into", "up", "on", "online"):
            continue  # "back in production" is not the rear
        if tok in SIDES:
            claims.sides.add(SIDES[tok])
            continue
        if tok in OK_WORDS and tok not in ("good", "clear", "correct", "properly"):
            claims.negative_finding = True
        if tok == "correct" and i and words[i - 1] in PASSIVE and not PURPOSE & set(words[max(0, i - 8):i]):
            # 'the alignment was correct' states a result; 'checked to ensure it was correct' a purpose
            claims.negative_finding = True
        if tok in NEGATORS and i + 1 < len(words) and _one_edit(words[i + 1], "findings"):  # 'no findings'
            claims.negative_finding = True
        if tok in ("good", "within") and any(w in ("condition", "spec", "order", "limit") for w in words[i:i + 4]):
            claims.negative_finding = True
        if tok in WORKING:  # "functioning properly" is an ok finding; "not working", "stopped working" a fault
            if negated or (i and stem(words[i - 1]) == "stopp") or (i and words[i - 1] in ("stop", "stops")):
                claims.states.append(("fault", False))
            else:
                claims.negative_finding = True
            continue
        state = state_class(tok)
        if state:
            claims.states.append((state, negated))
            claims.negative_finding |= negated
            continue
        if _is_generic_fault(tok):
            claims.states.append(("fault", negated))
            claims.negative_finding |= negated
            continue
        if tok in NEGATORS:
            continue
        action = None if _names_a_part(words, i) else action_class(tok)
        if action:
            if action == "recommend" and "that" in words[i + 1:i + 4] and stem(tok).startswith("advis"):
                continue  # "I advise the customer that …" informs, it does not recommend
            after = _clause(words[i + 1:i + 4])
            modal = action not in ("recommend", "ask", "find") and (
                any(p in MODAL for p in words[max(0, i - 3):i])
                or any(_class(w, ACTIONS) in ("recommend", "ask") or w in MODAL_AFTER for w in after))
            # "the repair cost", "TL3030-000548 repair found …": names the record, not a deed on an object
            noun = i > 0 and ((words[i - 1] in DETERMINERS and not _deed_on_part(words, i))
                              or _machine_before(words, i))
            obj = frozenset() if noun else frozenset(_object(words, i))
            actor = "machine" if action in DEEDS and _machine_subject(words, i) else _actor_of(words, i)
            if negated and action in DENIABLE:
                claims.denied.add(action)
                continue
            head = () if noun else _head_np(words, i)
            claims.actions.append((action, actor, modal, obj, head, upkeep_kind(tok) or action))
            continue
        base = tok.removesuffix("'s")
        if base not in FILLER and base not in OK_WORDS and len(base) > 1:
            claims.terms.append(stem(base))
    return claims


def _deed_on_part(words: list[str], i: int) -> bool:
    """'a repair on its bucket pin', 'the replacement of the seal': a deed noun that names the part it acts on."""
    if i + 1 >= len(words) or words[i + 1] not in ("on", "of", "to"):
        return False
    return any(t != "machine" for t in _first_np(words[i + 2:i + 7]))


def _possessive(word: str) -> bool:
    """'customer's', 'your': an owner, not a doer."""
    return word.endswith("'s") or word in ("your", "their")


def _machine_subject(words: list[str], i: int) -> bool:
    """'excavator D has repaired …': a machine as the doer of a deed (not 'was repaired', not 'machine chk')."""
    if not (words[i].endswith("ed") or words[i - 1 if i else 0] in ("has", "had", "have")):
        return False
    j = i - 1
    while j >= 0 and (words[j] in ("has", "had", "have")
                      or (len(words[j]) == 1 and words[j].isalpha() and words[j] != "a")):  # "excavator D has"
        j -= 1
    if j < 0 or any(w in PASSIVE for w in words[max(0, i - 2):i]):
        return False
    if not (words[j] in MACHINE_WORDS or MACHINE_ID.fullmatch(words[j])):
        return False
    k = j - 1 - (j > 0 and words[j - 1] in ("the", "a", "an"))
    return k < 0 or action_class(words[k]) not in DEEDS  # "requested the machine checked": the machine is the object


def _actor_of(words: list[str], i: int) -> str | None:
    """The subject of the action at i: nearest actor before it in the clause (not a recipient), or 'by X' after."""
    passive = any(w in PASSIVE for w in words[max(0, i - 2):i])  # "the supervisor was advised": the recipient
    reach = 16 if i and words[i - 1] == "and" else 7  # "the technician greased … and asked": a shared subject
    for j in range(i - 1, i - 1 if passive else max(-1, i - reach), -1):
        if words[j] in ".;:!?(" or words[j] == "that":
            break
        actor = actor_class(words[j])
        if actor:
            if _possessive(words[j]) and j < i - 1:
                continue
            k = j
            while k > 0 and words[k - 1] in ACTOR_MODIFIERS:
                k -= 1  # "with shift supervisor", "w/ maint manager": the cue precedes the whole name
            if k > 0 and words[k - 1] in RECIPIENT_CUES | {"the"}:
                if words[k - 1] != "the" or (k > 1 and words[k - 2] in RECIPIENT_CUES):
                    if words[i - 1] == "to" and words[k - 1 - (words[k - 1] == "the")] in INFORM:
                        return actor  # "informed the supervisor to renew …": the supervisor would do it
                    continue
            return actor
    for j in range(i + 1, min(len(words) - 2, i + 4)):
        if words[j] == "by":  # "was recommended by the technician", "inspected by a customer"
            return actor_class(words[j + 2] if words[j + 1] in ("the", "a", "an") else words[j + 1])
    return None


def _object(words: list[str], i: int) -> list[str]:
    """Content stems right after an action (up to the clause end or the next action), else right before it."""
    before = _content(list(reversed(words[max(0, i - 6):i])))
    if any(w in PASSIVE for w in words[max(0, i - 2):i] + words[i + 1:i + 2]) and before:
        return before  # "was replaced", and "the spare-parts order was …": a noun whose object precedes it
    return _content(words[i + 1:i + 8]) or before


def _head_np(words: list[str], i: int) -> tuple[str, ...]:
    """The object's own noun phrase, before any preposition: 'the grease line on the bucket was replaced' -> line."""
    passive = any(w in PASSIVE for w in words[max(0, i - 2):i] + words[i + 1:i + 2])
    after = [] if passive else _first_np(words[i + 1:i + 8])
    if after:
        return tuple(t for t in after if t != "machine")
    return tuple(t for t in _first_np(words[_np_start(words, i):i]) if t != "machine")
