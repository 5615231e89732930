"""Noun-phrase helpers: clauses, subjects, object stems and how a term is found in a pool of them."""

from __future__ import annotations

from sdi.drafting.claims.lexicon import (
    CLAUSE_BREAKS, DETERMINERS, FILLER, MACHINE_ID, MACHINE_WORDS, NEGATORS, OK_WORDS, PART_HEADS, PREPOSITIONS, SIDES,
    _is_generic_fault, _one_edit, action_class, actor_class, state_class, stem,
)


def _names_a_part(words: list[str], i: int) -> bool:
    """'lubrication unit', 'cleaning system', 'lubrication fault': a deed noun or gerund in front of a part or a
    fault names the part or system, no deed."""
    if not words[i].endswith(("ion", "ing")) or i + 1 >= len(words):
        return False
    return stem(words[i + 1]) in PART_HEADS | {"unit", "system"} or _is_generic_fault(words[i + 1])


def _clause(window: list[str]) -> list[str]:
    """The words of a window up to the first punctuation."""
    cut = next((k for k, w in enumerate(window) if not w[0].isalnum()), len(window))
    return window[:cut]


def _clause_before(words: list[str], i: int, reach: int, stops: set[str] | str) -> list[str]:
    """The words before position i, in order, back to the nearest stop word and at most `reach` of them."""
    back = list(reversed(words[max(0, i - reach):i]))
    return list(reversed(back[:next((k for k, x in enumerate(back) if x in stops), len(back))]))


def _np_start(words: list[str], i: int) -> int:
    """Where the words before position i that could name its subject begin (up to 8, no clause break or verb)."""
    start = i
    while start > 0 and i - start < 8 and words[start - 1][0].isalnum() and words[start - 1] not in CLAUSE_BREAKS \
            and not actor_class(words[start - 1]) and not action_class(words[start - 1]):
        start -= 1
    return start


def _first_np(window: list[str]) -> list[str]:
    """Object stems of a window up to the first preposition that follows some content."""
    cut = next((k for k, w in enumerate(window) if w in PREPOSITIONS and k > 0 and _content(window[:k])), len(window))
    return _content(window[:cut])


def _is_object_word(w: str) -> bool:
    return len(w) > 1 and w not in FILLER | NEGATORS | OK_WORDS and w not in SIDES and not state_class(w)


def _content(window: list[str]) -> list[str]:
    """Object stems of a window: up to punctuation, a clause break or an actor; actions and filler skipped."""
    out = []
    for w in window:
        if w in ".,;:!?(" or w in CLAUSE_BREAKS or actor_class(w):
            break
        if not w[0].isalpha() or action_class(w):
            continue
        if w in MACHINE_WORDS or MACHINE_ID.fullmatch(w):
            out.append("machine")
        elif _is_object_word(w := w.removesuffix("'s")):
            out.append(stem(w))
    return out


def _term_in(term: str, pool: set[str]) -> bool:
    """A content stem is in a pool of stems: equal, a prefix of length >= 4 either way, or one typo apart."""
    if term in pool:
        return True
    for p in pool:
        if len(term) >= 4 and len(p) >= 4 and (p.startswith(term) or term.startswith(p)):
            return True
        if len(term) >= 5 and abs(len(term) - len(p)) <= 1 and _one_edit(term, p):
            return True
    return False


def _machine_before(words: list[str], i: int) -> bool:
    """words[i - 1] names a machine as a subject ('machine', 'excavator D', 'PB1100-000842'; not 'motor on SHD24')."""
    j = i - 1
    if j >= 1 and len(words[j]) == 1 and words[j].isalpha():  # "excavator D"
        j -= 1
    if j >= 1 and words[j].isdigit() and MACHINE_ID.fullmatch(words[j - 1]):  # "pb1100 000842"
        j -= 1
    named = j >= 0 and (words[j] in MACHINE_WORDS or bool(MACHINE_ID.fullmatch(words[j])))
    return named and not (j >= 1 and words[j - 1] in PREPOSITIONS)


def _noun_phrase(words: list[str]) -> list[str]:
    """The leading run of plain words ('annual safety inspection' of 'annual safety inspection , …')."""
    out = []
    for w in words:
        if not w.isalpha() or w in CLAUSE_BREAKS or w in PREPOSITIONS or w in ("or", "and", "with"):
            break
        out.append(w)
    return out


def _runs(words: list[str]) -> list[list[str]]:
    """Runs of consecutive object stems ('top radiator hose' -> ['top', 'radiator', 'hos'])."""
    runs, run = [], []
    for w in words + ["."]:
        if w in SIDES or w == "top" or (w[0].isalpha() and _is_object_word(w) and not action_class(w)
                                         and w not in MACHINE_WORDS and not MACHINE_ID.fullmatch(w)
                                         and w not in DETERMINERS):
            run.append(stem(w))
        else:
            if run:
                runs.append(run)
            run = []
    return runs
