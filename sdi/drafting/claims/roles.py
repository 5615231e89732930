"""Who does what: askers and recipients, offers, the machine as doer, client or failure, deeds by things."""

from __future__ import annotations

import re

from sdi.drafting.claims.lexicon import (
    ACTOR_MODIFIERS, DEEDS, DETERMINERS, EVENT_KINDS, EVENT_NOUNS, FILLER, HEAD_ACTIONS, INFORM, MACHINE_ID,
    MACHINE_WORDS, PASSIVE, action_class, actor_class, fault_word, normalise, stem, state_class, tokens,
)
from sdi.drafting.claims.phrases import _clause, _content, _is_object_word, _machine_before, _noun_phrase


def recipients(text: str) -> set[str]:
    """Who was advised or informed: 'advised operator to clean daily', 'spoke with shift supervisor and advised …',
    'recommended to the customer' (not the framing 'I advise the customer that …')."""
    words, out = tokens(text), set()
    for i, w in enumerate(words):
        if not (action_class(w) == "recommend" or w in INFORM) or "that" in words[i + 1:i + 4]:
            continue
        ahead = [x for x in words[i + 1:i + 5] if x not in ("the", "to") and x not in ACTOR_MODIFIERS]
        who = actor_class(ahead[0]) if ahead else None
        if who is None and i > 1 and words[i - 1] == "and":  # 'spoke with X and advised'
            back = words[max(0, i - 6):i - 1]
            if "with" in back:
                who = next((a for x in back[back.index("with") + 1:] if (a := actor_class(x))), None)
        if who:
            out.add(who)
    return out


def _askers(text: str) -> tuple[set[str], set[str]]:
    """(who asked, who was asked): 'customer asked about …' vs 'the customer was asked about …'."""
    words, asked, were_asked = tokens(text), set(), set()
    for i, w in enumerate(words):
        if action_class(w) != "ask":
            continue
        k = i - 1
        passive = k >= 0 and words[k] in PASSIVE
        k -= passive
        while k >= 0 and (words[k] in ACTOR_MODIFIERS or words[k] in DETERMINERS):
            k -= 1
        who = actor_class(words[k]) if k >= 0 else None
        if who:
            (were_asked if passive else asked).add(who)
    return asked, were_asked


def asker_inverted(sentence: str, cited: str) -> str | None:
    """'the customer was asked about the price' over 'CUSTOMER ASKED ABOUT PRICE': who asked is not who was asked."""
    said_asked, said_were = _askers(sentence)
    src_asked, src_were = _askers(cited)
    for who in sorted(said_were & src_asked - src_were):
        return f"says the {who} was asked; in the source the {who} asked"
    for who in sorted(said_asked & src_were - src_asked):
        return f"says the {who} asked; in the source the {who} was asked"
    return None


def recipient_changed(sentence: str, cited: str) -> str | None:
    """'advised the customer to clean daily' where the source advised the operator: the wrong person advised."""
    said, src = recipients(sentence), recipients(cited)
    if said and src and not said & src:
        return f"advises the {' / '.join(sorted(said))}; the source advised the {' / '.join(sorted(src))}"
    return None


OFFER_TURNED = re.compile(r"\b(?:customer|client|you)\b[^.;]{0,20}?\b(?:wants?|wanted|would like|asked|asks|requested)"
                          r" to (?:offer|provide|sell|supply|give)\b")


def offer_turned(sentence: str, cited: str) -> str | None:
    """'the customer wanted to offer a maintenance contract' where the customer wants an offer: we offer, they ask."""
    if OFFER_TURNED.search(normalise(sentence)) and not re.search(r"\bto (?:offer|provide|sell|supply)\b",
                                                                   normalise(cited)):
        return "makes the customer the one who offers; the source records the customer asking for an offer"
    return None


EVENT_VERBS = {"performed", "carried", "conducted", "done", "completed", "undertaken"}


def event_subject(sentence: str) -> str | None:
    """'the system pressure was performed': only a deed or an event can be performed, carried out or completed."""
    words = tokens(sentence)
    for i, w in enumerate(words[2:], 2):
        if w in EVENT_VERBS and words[i - 1] in PASSIVE | {"also"}:
            j = i - 1
            while j >= 0 and words[j] in PASSIVE | {"also", "successfully", "then"}:
                j -= 1
            subject = words[j] if j >= 0 else ""
            phrase = words[max(0, j - 4):j]
            deed_noun = any(action_class(x) for x in phrase[phrase.index("of") - 1:] if "of" in phrase) \
                if "of" in phrase else False  # "replacement of clamp pads were performed"
            if subject.isalpha() and subject not in EVENT_NOUNS and not action_class(subject) \
                    and subject not in FILLER and not deed_noun:
                return f"'{subject} … {w}': only a deed or an event can be {w}"
    return None


OFFER_NOUNS = {"kit", "kits", "contract", "quote", "offer", "retrofit", "package", "overhaul", "upgrade", "spare",
               "spares", "wear", "parts"}
PART_DEEDS = ("replace", "upkeep")  # done to a part: a machine is repaired or serviced, not replaced or greased


def machine_as_client(sentence: str) -> str | None:
    """'the machine is recommended to wear parts kit', 'the machine is a wear parts kit', 'TL3030 is an annual
    safety inspection', 'excavator C was replaced with a turbocharger': a machine is neither advised, nor an offer
    or a visit, nor the part a deed was done to — a note records work *on* it ('it' before any part is the
    machine)."""
    words = _machine_pronoun(tokens(sentence))
    if why := _machine_joins_deed(words) or _machine_joins_advice(words):
        return why
    for i, w in enumerate(words[:-2]):
        if w not in ("is", "was", "are", "has", "had") or not _machine_before(words, i):
            continue
        nxt = words[i + 1:i + 5]
        if nxt[0] in ADVISED and nxt[1] == "to":
            return f"'the machine {w} {nxt[0]} to …': a recommendation is made to a person"
        if nxt[0] in ("recommended", "scheduled", "due", "planned") and nxt[1] == "for" and len(nxt) > 2 \
                and action_class(nxt[2]) == "replace":
            return f"'the machine {w} {nxt[0]} for {nxt[2]}': a part is replaced, not the machine"
        if w in ("is", "was", "are") and nxt[0].endswith("ing") and action_class(nxt[0]) in DEEDS:
            return f"'the machine {w} {nxt[0]} …': a machine does no deeds; the service team does"
        phrase = _noun_phrase(words[i + 2:i + 8]) if nxt[0] in ("a", "an") and w in ("is", "was", "are") else []
        if phrase and phrase[-1] in OFFER_NOUNS | EVENT_KINDS:
            return f"'the machine {w} a … {phrase[-1]}': the machine is not the {phrase[-1]}"
        deed = nxt[1] if nxt[0] == "been" and len(nxt) > 1 else nxt[0]
        fitted_with = stem(deed) in ("fit", "fitt", "refit", "refitt", "install", "equipp")  # gets a part: fine
        if (w in ("is", "was") or nxt[0] == "been") and action_class(deed) in PART_DEEDS and not fitted_with:
            return f"'the machine {w} {deed}': a part is {deed}, not the machine"
    return None


def _machine_pronoun(words: list[str]) -> list[str]:
    """'it' read as 'machine' while the sentence has named no part yet ('the excavator was repaired and it was …')."""
    out, part_named = [], False
    for w in words:
        if w == "it" and not part_named:
            out.append("machine")
            continue
        part_named |= w[0].isalpha() and _is_object_word(w) and not action_class(w) and not actor_class(w) \
            and w not in MACHINE_WORDS and not MACHINE_ID.fullmatch(w) and len(w) > 1
        out.append(w)
    return out


def _machine_joins_deed(words: list[str]) -> str | None:
    """'excavator D was repaired …, and replaced its tooth': a deed joined by 'and' to a clause whose subject is
    the machine names the machine as its doer."""
    for i, w in enumerate(words[1:-1], 1):
        deed = words[i + 1]
        if w != "and" or action_class(deed) not in HEAD_ACTIONS or not deed.endswith("ed") \
                or any(actor_class(x) for x in words[:i]):
            continue
        j = next((j for j in range(i - 1, 0, -1) if action_class(words[j]) and words[j - 1] in PASSIVE), None)
        if j is None or any(action_class(x) in DEEDS for x in words[j + 1:i]):
            continue  # no passive clause before, or 'cleaned slats and replaced …' (a list of the team's work)
        k = j - 1
        while k > 0 and words[k - 1] in PASSIVE:
            k -= 1
        if k > 0 and _machine_before(words, k):
            return f"'the machine … and {deed}': the machine is named as the one who {deed}"
    return None


ADVISED = ("recommended", "advised", "asked", "requested", "told", "informed", "instructed")
LINKS = ("is", "was", "are", "were", "has", "had")  # the verb after a clause's subject


def _machine_joins_advice(words: list[str]) -> str | None:
    """'PM500-000248 had a sharpened punch and was advised to clean daily': advice joined by 'and' to a clause whose
    subject is the machine is given to the machine."""
    for i, w in enumerate(words[2:-1], 2):
        if w not in ("was", "were") or words[i - 1] != "and" or words[i + 1] not in ADVISED:
            continue
        k = next((k for k in range(i - 2, 0, -1) if words[k] in LINKS or words[k] in (".", ";", "that")
                  or actor_class(words[k])), None)
        if k is not None and words[k] in LINKS and _machine_before(words, k):
            return f"'the machine … and {w} {words[i + 1]}': advice is given to a person, not the machine"
    return None


FAILURE = (r"(?:not (?:working|functioning|operational|running|starting)|no (?:power|signal|output)|"
           r"(?:won't|will not|wouldn't|does not|did not|would not) (?:start|work|run)|out of order|broken down)")
# The machine as the subject ('the pressure sensor on PB1100-… was not working' and 'excavator A's engines' are not).
MACHINE_SUBJECT = (r"(?i)(?<!\bon )(?<!\bof )(?<!\bin )(?<!\bat )(?<!\bfor )"
                   r"\b(?:machine|excavator(?: [a-z])?|equipment|[a-z]{2,4}\d{2,5}-\d{3,6}) ")
MACHINE_FAILS = re.compile(MACHINE_SUBJECT + r"(?:\w+ ){0,2}?" + FAILURE)
# The machine said to be in a state ('PB800-000744 was dirty', 'TL3030-000464 was closed'); its group is the word.
MACHINE_STATE = re.compile(MACHINE_SUBJECT + r"(?:was|is|were|are) (?:found )?(?:to be )?([a-z]+)\b")
MACHINE_OK = re.compile(MACHINE_SUBJECT + r"(?:was|is) (?:found )?(?:to be )?"
                        r"(?:in good (?:working )?(?:condition|order|shape)|ok|okay|fine|operational|functional)\b")
# A note that finds the whole machine fine ('ALL OK', 'everything within spec', 'no findings'; not 'all other axes ok').
WHOLE_OK = re.compile(r"\b(?:all|everything|machine|unit|excavator)\b(?! other)(?: \w+)? "
                      r"(?:ok|okay|fine|good|within spec|in spec|operational)\b|\bno (?:findings|defects|faults|issues|problems)\b|\bnothing found\b|"
                      r"\btest run ok\b")


def _note(cited: str) -> str:
    """A record's note without its header ('2026-01-06 repair on PB1100-000166: …')."""
    return cited.split(": ", 1)[-1]


def _said_of_machine(note: str, word: str) -> bool:
    """The note says a word (a regex) of the machine itself ('machine was down', 'excavator … faulty')."""
    return bool(re.search(rf"\b(?:machine|excavator|unit|equipment)\b(?: \w+){{0,2}} {word}", note))


def machine_state(sentence: str, cited: str) -> str | None:
    """'the PB800-000744 was dirty' (or 'faulty') where the old y1 scale was: a part's state (or a job's 'closed') is
    not the machine's unless the note says it of the machine; nor is 'all other axes ok' the machine's 'good
    condition'."""
    note = normalise(_note(cited))
    for match in MACHINE_STATE.finditer(sentence):
        word = match.group(1).lower()
        if (fault_word(word) or word == "closed") and not _said_of_machine(note, re.escape(word)):
            return f"says the machine was {word}; the source says it of something else"
    if MACHINE_OK.search(sentence) and not WHOLE_OK.search(note):
        return "says the whole machine was fine; the source says so of some parts only (or not at all)"
    return None


def machine_fails(sentence: str, cited: str) -> str | None:
    """'the excavator has no power' where the source says the rear a/c unit has none: a part's failure is not the
    whole machine's."""
    note = _note(cited)
    if MACHINE_FAILS.search(sentence) and not MACHINE_FAILS.search(note):
        return "says the whole machine failed; the source says it of a part (or not at all)"
    return None


def part_as_doer(sentence: str) -> str | None:
    """'a repair was performed on excavator D by lh air conditioning compressor': a part is not who did the work."""
    words = tokens(sentence)
    for i, w in enumerate(words):
        if w != "by" or i + 1 >= len(words):
            continue
        before = words[max(0, i - 8):i]
        deed = any(x in EVENT_VERBS or action_class(x) in ("repair", "upkeep", "check") for x in before)
        after = [x for x in words[i + 1:i + 4] if x not in DETERMINERS]
        # 'by a C/O R/H fan pump': a deed where the doer should be
        if deed and after and words[i + 1] in ("a", "an") and action_class(after[0]) in DEEDS:
            return f"'by a {after[0]} …': a deed named as the one who did the work"
        if deed and after and after[0].isalpha() and not actor_class(after[0]) and not action_class(after[0]) \
                and _content(after) \
                and not any(action_class(x) == "replace" for x in before):
            return f"'by {' '.join(after)}': a part named as the one who did the work"
    return None


def event_replaced(sentence: str) -> str | None:
    """'the service was replaced with vacuum cups': a visit is done, a part is replaced."""
    words = tokens(sentence)
    for i, w in enumerate(words[1:-1], 1):
        if words[i - 1] in EVENT_KINDS and w in ("is", "was", "were") and action_class(words[i + 1]) == "replace":
            return f"'{words[i - 1]} {w} {words[i + 1]}': a part is replaced, not the {words[i - 1]}"
    return None


AGENT_DEEDS = ("recommend", "ask", "report")


def deed_by_thing(sentence: str) -> str | None:
    """'recommended by all other axes', 'reported by R.H. engine': only a person recommends, asks or reports."""
    words = tokens(sentence)
    for i, w in enumerate(words[:-2]):
        if words[i + 1] == "by" and action_class(w) in AGENT_DEEDS:
            after = _clause(words[i + 2:i + 7])
            if after and not any(actor_class(x) or x in ACTOR_MODIFIERS for x in after):
                return f"'{w} by {' '.join(after[:4])}': only a person recommends, asks or reports"
    return None


AUXILIARIES = {"had", "has", "have", "then", "also", "first"}


def _doers(text: str) -> dict[str, tuple[str, set[str]]]:
    """Each verb written right after a person, with who: 'before we arrived' -> {arriv: (arrived, {technician})}."""
    words = tokens(text)
    out: dict[str, tuple[str, set[str]]] = {}
    for i, w in enumerate(words):
        if not (w.isalpha() and len(w) > 3 and w.endswith(("ed", "s"))) or actor_class(w):
            continue
        k = i - 1
        while k >= 0 and words[k] in AUXILIARIES:
            k -= 1
        who = actor_class(words[k]) if k >= 0 else None
        if who:
            out.setdefault(stem(w), (w, set()))[1].add(who)
    return out


def doer_changed(sentence: str, cited: str) -> str | None:
    """'down 2 h before the customer arrived' over '… BEFORE WE ARRIVED': the source names someone else as doing it."""
    src = _doers(cited)
    for verb, (word, who) in _doers(sentence).items():
        if verb in src and not who & src[verb][1]:
            return f"says the {' / '.join(sorted(who))} {word}; the source says the {' / '.join(sorted(src[verb][1]))}"
    return None


VISIT_BY = re.compile(r"\b(?:visit|service|repair|inspection|maintenance|work)\w* (?:was |were )?(?:made|done|carried out|"
                      r"performed|conducted|completed|paid) by (?:the |a |an )?(\w+)")


def visit_by_client(sentence: str, cited: str) -> str | None:
    """'service visit made by customer': the visit is the service team's unless the source says who else made it."""
    note = " ".join(tokens(cited))
    for m in VISIT_BY.finditer(" ".join(tokens(sentence))):
        who = actor_class(m.group(1))
        if who and who != "technician" and f"by {m.group(1)}" not in note:
            return f"says the {who} made the visit; the source does not"
    return None


# Words before 'was down' that name the machine or stand for it.
NOT_HOLDERS = MACHINE_WORDS | {"it", "which", "that", "who", "they"}


def downtime_of_part(sentence: str, cited: str) -> str | None:
    """'the main pump was down approximately 29 hours' over 'machine was down approx 29 h … cavitating main pump':
    the machine's downtime is not its part's."""
    words = tokens(sentence)
    for i, w in enumerate(words[2:], 2):
        if w != "down" or words[i - 1] not in PASSIVE:
            continue
        holder = words[i - 2]
        if holder not in NOT_HOLDERS and not MACHINE_ID.match(holder) and holder.isalpha() and len(holder) > 1 \
                and _said_of_machine(normalise(_note(cited)), r"down\b"):
            return f"says the {holder} was down; the source says the machine was"
    return None
