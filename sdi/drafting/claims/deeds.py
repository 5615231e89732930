"""What was done to which part: fitted parts, planned deeds, the objects of each deed, found and new parts."""

from __future__ import annotations

import re

from sdi.drafting.claims.extraction import Claims, extract
from sdi.drafting.claims.lexicon import (
    CLAUSE_BREAKS, DEEDS, DETERMINERS, MACHINE_WORDS, MODAL_AFTER, PARTICLES, PASSIVE, PREPOSITIONS, _is_generic_fault,
    action_class, actor_class, fault_word, state_class, stem, tokens, upkeep_kind,
)
from sdi.drafting.claims.phrases import (
    _clause, _content, _first_np, _is_object_word, _machine_before, _noun_phrase, _np_start, _term_in,
)


def fitted_with(sentence: str, cited: str) -> str | None:
    """'repaired with a water tank': what a repair was made with must be a part the source fits (replace, new)."""
    words, src = tokens(sentence), extract(cited)
    fitted = set().union(*[a[3] for a in src.actions if a[0] == "replace"] or [set()])
    fitted |= {stem(w) for w in tokens(cited) if w.isalpha()} if "new" in tokens(cited) else set()
    for i, w in enumerate(words[:-2]):
        if action_class(w) not in ("repair", "replace", "fix"):
            continue
        k = next((k for k in range(i + 1, min(len(words), i + 7))
                  if words[k] == "with" or not words[k][0].isalnum() or words[k] in CLAUSE_BREAKS | {"and"}), None)
        if k is not None and words[k] == "with":
            if any(state_class(x) or x in ("faulty", "defective", "failed") for x in words[k + 1:k + 4]):
                return f"'{w} with' a faulty part: garbled"
            window = words[k + 1:k + 8]
            window = window[:next((n for n, x in enumerate(window) if x == "and"), len(window))]
            if any(_is_generic_fault(x) for x in window):
                continue  # 'repaired with an E-409 error': the condition it had, not a part fitted
            part = [t for t in _content(window) if t not in ("machine", "one")]
            if part and not any(_term_in(t, fitted) for t in part):
                return f"'{w} with {' '.join(part)}': the source fits no such part"
            if part and action_class(w) == "replace" and (why := _swapped_for(words, i, k, part, cited)):
                return why
            if not part and not (any(a[0] == "replace" for a in src.actions) or "new" in tokens(cited)):
                return f"'{w} with a new one': the source fits no new part"
    return None


def _swapped_for(words: list[str], i: int, k: int, part: list[str], cited: str) -> str | None:
    """'the bucket bottom was replaced with a crowd pipe': X replaced with a different Y needs a source that says
    so (its 'with'); otherwise both are words of the one part the source replaced."""
    if "with" in tokens(cited):
        return None
    passive = any(w in PASSIVE for w in words[max(0, i - 2):i])
    old = _first_np(words[_np_start(words, i):i]) if passive else _content(words[i + 1:k])
    old = [t for t in old if t != "machine"]
    if old and not (_term_in(old[-1], {part[-1]}) or _term_in(part[-1], {old[-1]})):
        return f"'{' '.join(old)} {words[i]} with {' '.join(part)}': the source replaces one part, not one by another"
    return None


NEED_CUES = {"need", "needs", "needed", "should", "must", "will", "requires", "required", "require", "pending",
             "planned", "due", "next", "later"}


def planned_deed(sentence: str, cited: str) -> str | None:
    """'the seals need replacing' when the source records them replaced: to be done is not done."""
    words, src = tokens(sentence), extract(cited)
    for i, w in enumerate(words):
        action = action_class(w)
        if action not in ("replace", "repair", "upkeep") or (i and words[i - 1] in DETERMINERS):
            continue
        near = words[max(0, i - 3):i] + _clause(words[i + 1:i + 4])
        if any(c in NEED_CUES and not (c == "due" and "to" in near) for c in near):  # 'due to' gives a cause
            same = [a for a in src.actions if a[0] == action]
            if same and not any(a[2] for a in same):
                return f"says '{w}' is still to be done; the source records it done"
    return _advised_deed(words, src)


ADVICE_CUES = {"should", "must", "will", "would", "could", "may", "might", "need", "needs", "to"}


def _advised_deed(words: list[str], src: Claims) -> str | None:
    """'the customer should ask if …' where the source records the question: a request made is not advice."""
    for i, w in enumerate(words[1:], 1):
        action = action_class(w)
        if action in ("ask", "recommend") and words[i - 1] in ADVICE_CUES - {"to"} \
                and any(a[0] == action for a in src.actions):
            return f"'{words[i - 1]} {w}': the source records it as done, not as advice"
    return None


def _deed_of(word: str) -> str | None:
    """The kind of deed a word names: an upkeep kind, else the action class (checks, replacements, repairs)."""
    action = action_class(word)
    return (upkeep_kind(word) or action) if action in ("check", "replace", "repair", "upkeep") else None


def _deed_pool(words: list[str], deed: str) -> set[str]:
    """Every object stem a source's deeds of one kind act on: the words after each (to the next deed or the end of
    its sentence, across commas: 'checked turret alignment, gas pressures') and the words just before it."""
    pool: set[str] = set()
    for j, w in enumerate(words):
        if _deed_of(w) != deed:
            continue
        after = []
        for x in words[j + 1:j + 14]:
            if x in ".;:" or (x[0].isalpha() and action_class(x)):
                break
            after.append(x)
        pool |= {stem(x.removesuffix("'s")) for x in after if x[0].isalpha() and _is_object_word(x)}
        pool |= set(_content(list(reversed(words[max(0, j - 6):j]))))
    return pool - {"machine"}


def _conjuncts(words: list[str], i: int) -> list[list[str]]:
    """The objects a deed at i is said of, split at 'and' ('the beam guides and gripper fingers were checked')."""
    passive = any(w in PASSIVE for w in words[max(0, i - 2):i])
    window: list[str] = []
    if not passive:
        for x in words[i + 1:i + 12]:
            if not x[0].isalnum() or x in CLAUSE_BREAKS or action_class(x) or actor_class(x):
                break
            window.append(x)
    if not _content(window):
        window = words[_np_start(words, i):i]
    groups, cur = [], []
    for x in window + ["and"]:
        if x in ("and", "&"):
            groups.append(cur)
            cur = []
        else:
            cur.append(x)
    return [c for g in groups if (c := [t for t in _content(g) if t != "machine"])]


def conjunct_objects(sentence: str, cited: str) -> str | None:
    """'the beam guides and gripper fingers were checked' where only the fingers were: each object of a deed must be
    one the source's deeds of that kind act on."""
    words, src = tokens(sentence), tokens(cited)
    for i, w in enumerate(words):
        deed = _deed_of(w)
        advised = any(action_class(x) in ("recommend", "ask") for x in words[max(0, i - 3):i])
        if deed is None or advised or (i and words[i - 1] in DETERMINERS):
            continue
        parts = _conjuncts(words, i)
        pool = _deed_pool(src, deed)
        if len(parts) < 2 or not pool:
            continue
        missing = [p for p in parts if not _term_in(p[-1], pool)]
        if missing:
            return f"'{w}' is said of {' '.join(missing[0])}; the source's {deed} acts on other parts"
    return None


def _fitted_pool(cited: str) -> set[str]:
    """The parts the source's replacements act on."""
    return _deed_pool(tokens(cited), "replace")


FOUND_DEED = re.compile(r"\b(?:found|find|finds|discovered|identified) (?:a |an |the )?(?:temporary )?"
                        r"(?:replacement|new|repaired|fix)\b")


def found_fitted(sentence: str, cited: str) -> str | None:
    """'a modified bracket was found' where the source fits one: a part fitted is not a finding (with no fault said);
    'found a replacement filter' is a garbled 'replaced the filter'."""
    words = tokens(sentence)
    if FOUND_DEED.search(" ".join(words)) and not FOUND_DEED.search(" ".join(tokens(cited))):
        return "'found a replacement / new part': a fitted part is not a finding"
    if any(fault_word(w) for w in words) or any(action_class(w) == "find" for w in tokens(cited)):
        return None
    pool = _fitted_pool(cited)
    for i, w in enumerate(words):
        if action_class(w) != "find" or not stem(w).startswith(("found", "find", "discover", "identif")):
            continue
        parts = _conjuncts(words, i)
        if parts and pool and all(_term_in(p[-1], pool) for p in parts):
            return f"'{w}' a part the source fits or replaces (no fault is said of it)"
    return None


def machine_is_part(sentence: str, cited: str) -> str | None:
    """'TL3030-000978 was a new protective glass': the machine is not the part fitted to it."""
    words, pool = tokens(sentence), _fitted_pool(cited)
    for i, w in enumerate(words[:-2]):
        if w in ("is", "was", "are") and words[i + 1] in ("a", "an") and _machine_before(words, i):
            phrase = [stem(x) for x in _noun_phrase(words[i + 2:i + 8])]
            if phrase and pool and _term_in(phrase[-1], pool):
                return f"'the machine {w} a … {phrase[-1]}': the machine is not the part fitted to it"
    return None


def new_part(sentence: str, cited: str) -> str | None:
    """'a new hose' needs a source that fits, replaces or names something new."""
    if "new" not in tokens(sentence):
        return None
    if "new" in tokens(cited) or any(a[0] == "replace" for a in extract(cited).actions):
        return None
    return "'new' part: the source replaces nothing"


def participle_noun(sentence: str) -> str | None:
    """'a bucket was replaced tooth': a passive deed followed straight by a bare noun is garbled word order."""
    words = tokens(sentence)
    for i, w in enumerate(words[1:-1], 1):
        nxt = words[i + 1]
        if words[i - 1] in PASSIVE and action_class(w) in DEEDS and w.endswith("ed") and nxt.isalpha() \
                and _is_object_word(nxt) and nxt not in PREPOSITIONS | CLAUSE_BREAKS | {"and", "or", "new"} \
                and not nxt.endswith("ly") and not action_class(nxt) and not actor_class(nxt) \
                and nxt not in MACHINE_WORDS | MODAL_AFTER | NEED_CUES | PARTICLES:
            return f"'{words[i - 1]} {w} {nxt}': garbled word order"
    return None


def repaired_to(sentence: str) -> str | None:
    """'was repaired to commercial radio', 'repaired … to cover a cab roof': a work-order heading ('repairs to X')
    read as a deed with a goal."""
    words = tokens(sentence)
    for i, w in enumerate(words[:-1]):
        if stem(w) == "repair" and w != "repairs" and "to" in words[i + 1:i + 6]:
            j = words.index("to", i + 1)
            if all(x not in CLAUSE_BREAKS and x not in (",", ".") and not action_class(x) for x in words[i + 1:j]) \
                    and words[j + 1:j + 2] and words[j + 1] not in ("be", "spec", "specification", "standard") \
                    and not action_class(words[j + 1]):  # 'repaired to fix …': a purpose
                return f"'{w} … to {words[j + 1]}': a heading 'repairs to …' read as a goal"
    return None


CONTRACTED = {"wasn", "weren", "didn", "hasn", "haven", "hadn", "isn", "aren", "couldn", "wouldn", "doesn", "don"}
DONE_WORDS = {"completed", "complete", "done", "finished", "performed", "carried", "conducted", "executed",
              "successful", "successfully", "attended", "serviced", "addressed"}
HEDGES = {"properly", "fully", "yet", "correctly", "completely", "successfully", "actually", "been", "be", "being",
          "get", "got", "have", "had", "out", "all", "any", "even", "ever", "adequately", "thoroughly"}
UNDONE_CUES = {"unable", "incomplete", "pending", "outstanding", "postponed", "cancelled", "canceled", "unfinished",
               "couldn", "wasn", "weren", "didn", "nc", "abort", "aborted", "revisit", "return"}


def _negators(words: list[str]) -> list[int]:
    """Where a text says 'not': 'not', 'never', and the 't' of a split "wasn't"."""
    return [i for i, w in enumerate(words) if w in ("not", "never") or (w == "t" and i and words[i - 1] in CONTRACTED)]


def _done_word(word: str) -> bool:
    """A word that says a deed happened: a check, repair, replacement or upkeep, or 'completed', 'done'."""
    return word in DONE_WORDS or action_class(word) in ("check", "repair", "replace", "upkeep", "fix")


def _denied_deeds(words: list[str]) -> list[str]:
    """The deeds a text says did not happen: 'was not (properly) inspected', 'never completed', and an elliptical
    '…, but the E-stops were not'."""
    out = []
    for n in _negators(words):
        after = [w for w in words[n + 1:n + 5] if w not in HEDGES][:1]
        if after and after[0][0].isalpha() and _done_word(after[0]):
            out.append(after[0])
        elif (not after or not after[0][0].isalpha() or after[0] in ("h1", "h2", "and", "but")) \
                and n and words[n - 1] in PASSIVE | {"did", "has", "have", "had", "weren", "wasn", "didn"}:
            out.append(f"{words[n - 1]} not")
    return out


def denied_deed(sentence: str, cited: str) -> str | None:
    """'the repair was not completed', 'was not properly inspected', 'but the E-stops were not': a deed said not to
    have happened needs a source that says something was not done (a negated deed, 'unable', 'pending', …)."""
    denied = _denied_deeds(tokens(sentence))
    if not denied:
        return None
    src = tokens(cited)
    if _denied_deeds(src) or UNDONE_CUES & set(src) \
            or any(_done_word(w) for i in _negators(src) for w in src[i + 1:i + 4]):
        return None
    return f"says '{denied[0]}' did not happen; the source records no deed left undone"


FREQUENCY = {"daily", "weekly", "monthly", "hourly", "yearly", "annually", "shift", "shifts"}


def _deed_before(words: list[str], i: int) -> str | None:
    """The stem of the nearest deed or past participle before position i in its clause ('clean daily' -> clean)."""
    for w in reversed(words[max(0, i - 5):i]):
        if not w[0].isalnum() or w in CLAUSE_BREAKS:
            return None
        if w.isalpha() and (action_class(w) or w.endswith("ed")):
            return stem(w)
    return None


def frequency_moved(sentence: str, cited: str) -> str | None:
    """'the oil level was checked daily' over 'checked oil level … advised operator to clean daily': how often
    something is done belongs to the deed the source says it of."""
    words, src = tokens(sentence), tokens(cited)
    said_on = {_deed_before(src, k) for k, w in enumerate(src) if w in FREQUENCY} - {None}
    for i, w in enumerate(words):
        if w in FREQUENCY and said_on and (deed := _deed_before(words, i)) and deed not in said_on \
                and not any(_term_in(deed, {d}) for d in said_on):
            return f"'{w}' is said of '{deed}'; the source says it of {', '.join(sorted(said_on))}"
    return None


# Past forms the crude stem does not map to their verb ('made' is not 'mak').
PAST = {"made": "make", "did": "do", "sent": "send", "brought": "bring", "built": "build", "bought": "buy", "put": "put",
        "set": "set", "sold": "sell", "told": "tell", "kept": "keep", "left": "leave", "found": "find"}
# 'to' before these is a preposition or a cause, not a deed to come ('traced to', 'due to', 'MCV to float valve').
NOT_INFINITIVE = {"due", "traced", "back", "prior", "according", "up", "next", "from", "close", "similar", "related",
                  "attached", "connected", "fitted", "leading", "going", "led", "returned", "down", "in"}


def infinitive_done(sentence: str, cited: str) -> str | None:
    """'Pirtek made hose' over 'Pirtek to make hose': a deed the source puts after 'to' is still to be done."""
    src = tokens(cited)
    planned = {stem(src[i + 1]): src[i + 1] for i in range(1, len(src) - 1)
               if src[i] == "to" and src[i - 1] not in NOT_INFINITIVE and src[i + 1].isalpha()
               and src[i + 1] not in DETERMINERS and src[i + 1] != "be"}
    done = {v for w in src if (v := _past_verb(w))}
    words = tokens(sentence)
    for i, w in enumerate(words):
        verb = _past_verb(w)
        if verb is None or (i and words[i - 1] in ("to", "be", "will", "should", "must")):
            continue
        if verb in planned and verb not in done and not action_class(w):
            return f"'{w}': the source has it still to be done ('to {planned[verb]}')"
    return None


def _past_verb(word: str) -> str | None:
    """The stem of the verb a past form names ('made' -> mak, 'called' -> call), or None for any other word."""
    if word.endswith("ed") or word in PAST:
        return stem(PAST.get(word, word))
    return None
