"""Claim support: who did what to which part (side, state, negation) must be said by the cited text."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Abbreviations and spellings read as written out (applied to sentence and source alike, lowercase).
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\blhs\b", "left side"), (r"\brhs\b", "right side"), (r"\bre[- ](?=[a-z]{3,})", "re"),
    (r"\bl/h\b|\blh\b|\bleft[- ]hand\b", "left"), (r"\br/h\b|\brh\b|\bright[- ]hand\b", "right"),
    (r"\bc/o\b|\bchange[ds]? out\b|\bchanging out\b", "replace"), (r"\bu/s\b|\bunserviceable\b", "broken"),
    (r"\bw/o\b", "without"), (r"\bw/", "with "), (r"\ba/c\b", "aircon"), (r"\bp/n\b|\bpn\b", "part"),
    (r"\bcyls?\b", "cylinder"), (r"\bhyd\b", "hydraulic"), (r"\brepl\b", "replace"), (r"\bchk\b", "check"),
    (r"\badj\b", "adjust"), (r"\binsp\b", "inspection"), (r"\bcust\b\.?", "customer"), (r"\bmaint\b", "maintenance"),
    (r"\bpress\.", "pressure"), (r"\btemp\b", "temperature"), (r"\bvib\b", "vibration"), (r"\beng\b", "engine"),
    (r"\bpwr\b", "power"), (r"\bprot\.", "protective"), (r"\bapprox\b\.?", "approximately"), (r"\bassy\b", "assembly"),
    (r"\blube\b", "lubrication"),
    (r"(?<=\d)\s*(?:h|hrs?|hours?)\b", " hours"), (r"\s*(?:%|per ?cent\b)", " percent"),
    (r"(?<=\d)\s*(?:min|mins|minutes?)\b", " minutes"), (r"\bmaintain(?:ed|ing|s)?\b", "maintenance"),
    (r"\bno (?:signal|output|power|pressure|response)\b", "fault"), (r"\boverheat(?:ing|ed|s)?\b", "high temperature"),
    (r"\bcent(?:red|ered|ring|ering)\b", "aligned"), (r"\bn't\b", " not"), (r"\bwon't\b", "will not"), (r"\bcan't\b", "can not"),
)
_ABBR = tuple((re.compile(p), r) for p, r in ABBREVIATIONS)
TOKEN = re.compile(r"[a-z][a-z0-9]*(?:'s)?|\d+(?:[.,]\d+)?|[.,;:!?()]")

# Action classes: stems (after `stem`) that name the action.
ACTIONS: dict[str, tuple[str, ...]] = {
    "replace": ("replac", "swap", "fit", "fitt", "refit", "changeout", "install", "renew", "exchang", "chang"),
    "fix": ("fix", "resolv", "rectif", "sort"),
    "repair": ("repair", "rebuild", "rebuilt", "weld", "patch", "mend", "overhaul", "reseal"),
    "upkeep": ("adjust", "clean", "wash", "greas", "lubricat", "top", "topp", "calibrat", "tighten", "reset", "sharpen",
               "align", "realign", "flush", "drain", "recharg", "charg", "bled", "bleed", "jump"),
    "check": ("check", "inspect", "inspection", "test", "tested", "measur", "examin", "verif", "diagnos", "monitor",
              "recheck", "assess"),
    "recommend": ("recommend", "recommendation", "suggest", "advis", "advic", "propos", "urg"),
    "ask": ("ask", "request", "want", "inquir", "enquir", "interest"),
    "consider": ("consider",),
    "order": ("order",),
    "report": ("report", "say", "said", "complain", "mention", "stat"),
    "find": ("found", "find", "note", "detect", "identif", "discover", "observ", "show", "record", "trac",
             "reveal", "confirm"),
}
# States (fault classes); GENERIC_FAULT words are supported by any stated fault.
STATES: dict[str, tuple[str, ...]] = {
    "leak": ("leak", "seep", "weep"), "crack": ("crack", "split"), "wear": ("worn", "wear", "blunt", "chipp"),
    "broken": ("broken", "broke", "break", "snapp", "sheared", "shear", "burnt", "burn", "blown", "miss"),
    "noise": ("noisy", "nois", "loud", "louder", "rattl", "squeal"),
    "dirt": ("dirty", "dirt", "clogg", "block", "blockag", "contaminat", "spatter", "full"), "loose": ("loose", "slack", "play", "walk", "backlash"),
    "stuck": ("stick", "stuck", "jamm", "seiz"), "misaligned": ("misalign",), "low": ("low", "lost", "drop"),
    "high": ("high", "overheat", "hot"), "bent": ("bent", "bend"), "damage": ("damag", "chaf"), "rough": ("rough",),
}
GENERIC_FAULT = ("fault", "faulty", "defect", "defective", "problem", "issu", "malfunction", "failur", "fail",
                 "error", "trouble", "concern", "intermittent")
ACTORS: dict[str, tuple[str, ...]] = {
    "customer": ("customer", "client", "owner", "you", "your"),
    "operator": ("operator", "driver", "supervisor", "shift"),
    "manager": ("manager",),
    "technician": ("technician", "tech", "engineer", "mechanic", "fitter", "we", "team", "crew", "staff", "company"),
}
SIDES = {"left": "left", "right": "right", "front": "front", "rear": "rear", "back": "rear", "upper": "upper",
         "top": "upper", "lower": "lower", "bottom": "lower", "inner": "inner", "outer": "outer"}
EXACT_STEMS = {"full", "play", "walk", "sort", "stat", "miss", "drop", "lost", "bend", "test", "burn", "trac",
               "block", "chang", "jump", "top", "fit"}  # "fully", "display", "track", "status" are not these
WORKING = {"functioning", "functional", "operational", "working", "operating"}
NOT_ACTIONS = {"fittings",  # hydraulic fittings are parts
               "new", "advisor", "advisors", "adviser", "advisory", "trusted", "testament", "statement", "station"}
MODAL_AFTER = {"planned", "needed", "required", "pending", "due", "next"}
RECIPIENT_CUES = {"with", "to", "informed", "inform", "told", "tell", "advised", "advise", "for", "asked"}
INFORM = {"informed", "inform", "told", "tell"}
ACTOR_MODIFIERS = {"maintenance", "production", "site", "plant", "service", "field", "shift"}
MACHINE_WORDS = {"machine", "machines", "excavator", "unit", "equipment", "shovel"}
MACHINE_ID = re.compile(r"[a-z]{2,4}\d{2,5}")
FRAMING = {"advise", "tell", "inform", "remind", "assure"}  # "I advise the customer that …": the addressee
DEEDS = {"repair", "replace", "check", "recommend", "ask", "upkeep"}
HEAD_ACTIONS = {"replace", "repair", "upkeep"}
DENIABLE = DEEDS - {"check"}  # "never replaced" is a claim of its own; "not checked" reads as a finding
PASSIVE = {"was", "were", "been", "be", "is", "are", "being", "got"}
CLAUSE_BREAKS = {"after", "because", "since", "due", "when", "while", "during", "before", "but", "which", "that", "as"}
DETERMINERS = {"the", "a", "an", "this", "that", "its", "their", "his", "her"}
NEGATORS = {"no", "not", "without", "nil", "none", "never", "zero", "nothing", "neither", "nor"}
OK_WORDS = {"ok", "okay", "fine", "good", "spec", "normal", "clear", "satisfactory", "correct", "properly"}
MODAL = {"to", "recommend", "recommended", "suggest", "suggested", "advise", "advised", "need", "needs", "needed",
         "should", "will", "would", "may", "might", "planned", "plan", "quote", "offer", "request", "requested",
         "asked", "wants", "want", "for", "be", "possible", "if", "considering", "consider"}
# Words a faithful sentence may use without the source saying them: grammar, framing, generic service vocabulary.
FILLER = set("""
a an the and or but of in on at by for from to into onto with as than then that this these those there here it its
their they them he she his her our us i me my was were is are be been being had has have do did does done also
which who whom whose what when where while during after before since until about over under again further very
machine machines excavator unit equipment visit visits record records service serviced servicing work job task
technician part parts component components item items system one some any all both each other another same new
due because so such just only still already recently previously later today time date day found finding findings
noted note notes showed shows indicated indicates indicating reported stated according following performed carried out made
done completed complete undertaken conducted successfully properly correctly need needed needs required require
issue issues problem problems fault faults attention action actions condition status result results state
your our we you please let may might could would should will can must shall i advisor trusted
including include includes included incl history last latest recent ever previous experiencing experienced
experience experiences expected expect itself themselves ensure ensured ensuring
january february march april may june july august september october november december
""".split())
DEGENERATE_MARKERS = re.compile(
    r"(?i)\bthe source\b|\bsource\s*:|\[[TH]\d{1,2}\]\s*:|\(rule\b|\brule \w+ v\d|\bsentence\s*:|\bhere is\b|"
    r"\bhere's\b|\btalking point\s*:|\bas an ai\b|\bservice record \[|\brecord \[[TH]\d|\bfact \[|"
    r"\d{4}-\d{2}-\d{2} (?:repair|maintenance|inspection|replacement|service|work order) on [\w -]{1,30}:|"
    r"\b[A-Z]{2,4}\d{2,5}-\d{3,6}:|\bexcavator [A-Z]:|\bservice record of\b|\bfound (?:a|the) record\b|\[[^\]\n]{3,}\]")
# A sentence with no subject of its own: 'was found on excavator B', 'were replaced'.
NO_SUBJECT = re.compile(r"(?i)^\W*(?:was|were|is|are|has|have|had|been|being)\b")


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


def normalise(text: str) -> str:
    """Lowercase with abbreviations written out ("L/H BUCKET CYL" -> "left bucket cylinder")."""
    text = re.sub(r"\s+-+\s+", " ; ", text.lower().replace("’", "'"))  # a spaced dash separates work-order items
    for pattern, repl in _ABBR:
        text = pattern.sub(repl, text)
    return text


PARTICLES = {"up", "out", "off", "down", "in", "over", "back", "through", "on", "away"}  # 'topped up', 'washed out'
PURPOSE = {"ensure", "sure", "verify", "confirm", "see", "whether", "if"}
SINGULAR_S = {"lens", "gas", "bus", "bellows", "chassis", "series"}
IRREGULAR = {"came": "come", "went": "go", "ran": "run", "took": "take", "gave": "give", "began": "begin",
             "got": "get", "wore": "wear", "tore": "tear", "broke": "break"}


def stem(word: str) -> str:
    """A crude stem: plural, -ing, -ed, -ment, -ly removed ("leaking" -> "leak", "cylinders" -> "cylinder")."""
    word = IRREGULAR.get(word, word).removesuffix("'s")
    if word.endswith(("ss", "us", "is")) or word in SINGULAR_S:  # 'glass', 'axis', 'lens' are not plurals
        return word
    if len(word) > 4 and word.endswith(("ied", "ies")):
        return word[:-3] + "y"  # "dried" -> "dry"
    for suffix in ("ments", "ment", "ings", "ing", "edly", "ed", "ly", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) >= 4 else word


def tokens(text: str) -> list[str]:
    """Normalised word, number and punctuation tokens."""
    return TOKEN.findall(normalise(text))


def _class(word: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The class whose stem list names the word: exact stem, or a prefix for stems of 4+ letters; a technician's
    typo in a long word ('calirbated') is read as the intended word."""
    s = stem(word)
    for name, stems in table.items():
        if any(s == t or (len(t) >= 4 and t not in EXACT_STEMS and (s.startswith(t) or word.startswith(t)))
               for t in stems):
            return name
    if len(word) >= 8:
        for name, stems in table.items():
            if any(len(t) >= 7 and _typo(word[:len(t)], t) for t in stems):
                return name
    return None


def _typo(a: str, b: str) -> bool:
    """Equal but for one swapped pair of neighbouring letters or one changed letter."""
    diff = [k for k in range(min(len(a), len(b))) if a[k] != b[k]]
    if len(a) != len(b):
        return False
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                              and a[diff[1]] == b[diff[0]])


# Kinds of upkeep a note tells apart: greased ram guides is not calibrated ram guides (same class, other deed).
UPKEEP_KINDS: dict[str, tuple[str, ...]] = {
    "lubricate": ("greas", "lubricat", "oil", "oiled"), "clean": ("clean", "wash", "flush", "drain", "blow"),
    "adjust": ("adjust", "calibrat", "align", "realign", "tighten", "centr", "aligned"),
    "top up": ("top", "topp", "recharg", "charg", "bled", "bleed", "refill", "fill"), "reset": ("reset",),
    "sharpen": ("sharpen",), "jump": ("jump",),
}


def upkeep_kind(word: str) -> str | None:
    """The kind of upkeep a word names ('greased' -> lubricate), None for other words."""
    return _class(word, UPKEEP_KINDS) if action_class(word) == "upkeep" else None


def action_class(word: str) -> str | None:
    """The action class a word names, if any ("c/o" -> replace, "advised" -> recommend)."""
    if word in NOT_ACTIONS:
        return None
    return _class(word, ACTIONS)


def state_class(word: str) -> str | None:
    """The fault class a word names, if any ("leaking" -> leak, "u/s" -> broken)."""
    return _class(word, STATES)


def actor_class(word: str) -> str | None:
    """The actor class a word names, if any."""
    return next((name for name, words in ACTORS.items() if word.removesuffix("'s") in words), None)


def _is_generic_fault(word: str) -> bool:
    """'fault', 'problem', 'issue': supported by any stated fault."""
    return any(stem(word).startswith(g) for g in GENERIC_FAULT)


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


def _names_a_part(words: list[str], i: int) -> bool:
    """'lubrication unit', 'cleaning system', 'lubrication fault': a deed noun or gerund in front of a part or a
    fault names the part or system, no deed."""
    if not words[i].endswith(("ion", "ing")) or i + 1 >= len(words):
        return False
    return stem(words[i + 1]) in PART_HEADS | {"unit", "system"} or _is_generic_fault(words[i + 1])


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


def _clause(window: list[str]) -> list[str]:
    """The words of a window up to the first punctuation."""
    cut = next((k for k, w in enumerate(window) if not w[0].isalnum()), len(window))
    return window[:cut]


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
        if words[j] == "by":  # "was recommended by the technician"
            return actor_class(words[j + 2] if words[j + 1] == "the" else words[j + 1])
    return None


def _object(words: list[str], i: int) -> list[str]:
    """Content stems right after an action (up to the clause end or the next action), else right before it."""
    before = _content(list(reversed(words[max(0, i - 6):i])))
    if any(w in PASSIVE for w in words[max(0, i - 2):i] + words[i + 1:i + 2]) and before:
        return before  # "was replaced", and "the spare-parts order was …": a noun whose object precedes it
    return _content(words[i + 1:i + 8]) or before


PREPOSITIONS = {"on", "in", "at", "of", "for", "from", "off", "near", "under", "behind", "inside", "to", "onto", "into",
                "with", "around", "between", "above", "below", "over"}


def _head_np(words: list[str], i: int) -> tuple[str, ...]:
    """The object's own noun phrase, before any preposition: 'the grease line on the bucket was replaced' -> line."""
    passive = any(w in PASSIVE for w in words[max(0, i - 2):i] + words[i + 1:i + 2])
    after = [] if passive else _first_np(words[i + 1:i + 8])
    if after:
        return tuple(t for t in after if t != "machine")
    return tuple(t for t in _first_np(words[_np_start(words, i):i]) if t != "machine")


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


def _one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours apart ("srew" ~ "screw")."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:k] + long_[k + 1:] == short for k in range(len(long_)))


def degenerate(sentence: str, cited: str = "") -> str | None:
    """Why a sentence is not a sentence (repetition, pasted headers, meta text), or None; a phrase the cited text
    itself repeats ('fund l/h back gauge finger bent; fitted new l/h back gauge finger') may repeat."""
    if DEGENERATE_MARKERS.search(sentence):
        return "copies a source header, marker or meta text"
    if UNFINISHED.search(sentence):
        return "ends unfinished ('… found:')"
    if NO_SUBJECT.search(sentence):
        return "a fragment with no subject ('was found on …')"
    if sentence.count("[") != sentence.count("]"):
        return "unbalanced bracket (garbled text)"
    if any(m.group(1).lower() not in HEADER_LEADS for m in HEADER_IN_TEXT.finditer(sentence)):
        return "drops a record header into the sentence ('… encoder 2026-07-03 repair on …')"
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    source = re.findall(r"[a-z0-9]+", cited.lower())
    for n, times in ((3, 3), (5, 2)):
        grams = Counter(" ".join(words[k:k + n]) for k in range(len(words) - n + 1))
        echoed = Counter(" ".join(source[k:k + n]) for k in range(len(source) - n + 1))
        if any(c >= times and echoed[g] < c for g, c in grams.items()):
            return "repeats itself"
    if len(words) > 60:
        return "too long for one finding"
    if sentence.count("(") != sentence.count(")"):
        return "unbalanced parenthesis (garbled text)"
    return None


# A label or list left open where the claim should follow ('… found:', 'Maintenance on PM500 found', '… with the').
UNFINISHED = re.compile(r"(?:[:;,\-–—]|(?i:(?<!was )(?<!were )(?<!been )(?<! is )(?<!are )\bfound|"
                        r"\b(?:the|a|an|of|with|and|or|to|on|that)))\s*\.?\s*$")
HEADER_IN_TEXT = re.compile(r"(?i)(\S+)\s+\d{4}-\d{2}-\d{2} (?:repair|maintenance|inspection|replacement) on ")
HEADER_LEADS = {"the", "a", "an", "on", "in", "of", "during", "at", "from", "since", "last", "its", "this", "that",
                "our", "your", "their", "his", "her", "by", "after", "before"}


def pasted(sentence: str, cited: str) -> bool:
    """A 'label: text' chunk whose 3+ words are copied verbatim from the source ("excavator D: JUMP START …")."""
    flat = " ".join(cited.lower().split())
    for m in re.finditer(r":\s+([^:\[]+)", sentence):
        chunk = " ".join(m.group(1).lower().split()).rstrip(" .")
        if len(chunk.split()) >= 3 and chunk in flat:
            return True
    return False


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
            if any(state_class(x) for x in words[k + 1:k + 4]):
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


def recipient_changed(sentence: str, cited: str) -> str | None:
    """'advised the customer to clean daily' where the source advised the operator: the wrong person advised."""
    said, src = recipients(sentence), recipients(cited)
    if said and src and not said & src:
        return f"advises the {' / '.join(sorted(said))}; the source advised the {' / '.join(sorted(src))}"
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


OFFER_TURNED = re.compile(r"\b(?:customer|client|you)\b[^.;]{0,20}?\b(?:wants?|wanted|would like|asked|asks|requested)"
                          r" to (?:offer|provide|sell|supply|give)\b")


def offer_turned(sentence: str, cited: str) -> str | None:
    """'the customer wanted to offer a maintenance contract' where the customer wants an offer: we offer, they ask."""
    if OFFER_TURNED.search(normalise(sentence)) and not re.search(r"\bto (?:offer|provide|sell|supply)\b",
                                                                   normalise(cited)):
        return "makes the customer the one who offers; the source records the customer asking for an offer"
    return None


def _fitted_pool(cited: str) -> set[str]:
    """The parts the source's replacements act on."""
    return _deed_pool(tokens(cited), "replace")


def found_fitted(sentence: str, cited: str) -> str | None:
    """'a modified bracket was found' where the source fits one: a part fitted is not a finding (with no fault said)."""
    words = tokens(sentence)
    if any(state_class(w) or _is_generic_fault(w) for w in words) or any(action_class(w) == "find"
                                                                          for w in tokens(cited)):
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
        faulty = any(state_class(x) or _is_generic_fault(x) or x[0].isdigit() or x in WORKING | NEGATORS | {"alarm"}
                     or actor_class(x) or x in EVENT_NOUNS for x in phrase)
        if phrase and not faulty and [t for t in _content(phrase) if t != "machine"]:
            return f"'due to {' '.join(phrase)}': a part given as the cause, not a fault"
    return None


def new_part(sentence: str, cited: str) -> str | None:
    """'a new hose' needs a source that fits, replaces or names something new."""
    if "new" not in tokens(sentence):
        return None
    if "new" in tokens(cited) or any(a[0] == "replace" for a in extract(cited).actions):
        return None
    return "'new' part: the source replaces nothing"


EVENT_VERBS = {"performed", "carried", "conducted", "done", "completed", "undertaken"}
EVENT_NOUNS = {"service", "maintenance", "work", "job", "visit", "run", "program", "programme", "calibration", "pm",
               "task", "tasks", "procedure", "overhaul", "update", "backup", "training", "it", "this", "all"}


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


EVENT_KINDS = {"inspection", "service", "repair", "maintenance", "visit", "replacement", "check"}
PART_DEEDS = ("replace", "upkeep")  # done to a part: a machine is repaired or serviced, not replaced or greased


def machine_as_client(sentence: str) -> str | None:
    """'the machine is recommended to wear parts kit', 'the machine is a wear parts kit', 'TL3030 is an annual
    safety inspection', 'excavator C was replaced with a turbocharger': a machine is neither advised, nor an offer
    or a visit, nor the part a deed was done to — a note records work *on* it ('it' before any part is the
    machine)."""
    words = _machine_pronoun(tokens(sentence))
    if why := _machine_joins_deed(words):
        return why
    for i, w in enumerate(words[:-2]):
        if w not in ("is", "was", "are", "has", "had") or not _machine_before(words, i):
            continue
        nxt = words[i + 1:i + 5]
        if nxt[0] in ("recommended", "advised", "asked", "requested") and nxt[1] == "to":
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


FAILURE = (r"(?:not (?:working|functioning|operational|running|starting)|no (?:power|signal|output)|"
           r"(?:won't|will not|wouldn't|does not|did not|would not) (?:start|work|run)|out of order|broken down)")
# The machine as the subject ('the pressure sensor on PB1100-… was not working' and 'excavator A's engines' are not).
MACHINE_FAILS = re.compile(r"(?i)(?<!\bon )(?<!\bof )(?<!\bin )(?<!\bat )(?<!\bfor )"
                           r"\b(?:machine|excavator(?: [a-z])?|equipment|[a-z]{2,4}\d{2,5}-\d{3,6}) "
                           r"(?:\w+ ){0,2}?" + FAILURE)


def machine_fails(sentence: str, cited: str) -> str | None:
    """'the excavator has no power' where the source says the rear a/c unit has none: a part's failure is not the
    whole machine's."""
    note = cited.split(": ", 1)[-1]
    if MACHINE_FAILS.search(sentence) and not MACHINE_FAILS.search(note):
        return "says the whole machine failed; the source says it of a part (or not at all)"
    return None


OK_FINDING = re.compile(r"\b(?:within spec\w*|ok|okay|in order|operational|no defects?)\b")
NOT_OK = re.compile(r"\bnot (?:\w+ ){0,2}?(?:within (?:the )?(?:\w+ )?spec\w*|ok|okay|in order|operational)\b")


def inverted_ok(sentence: str, cited: str) -> str | None:
    """'was not within the specified specifications' where the source says 'everything within spec'."""
    said, src = normalise(sentence), normalise(cited)
    if NOT_OK.search(said) and OK_FINDING.search(src) and not NOT_OK.search(src):
        return "the source's ok-finding is negated"
    return None


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


def part_as_doer(sentence: str) -> str | None:
    """'a repair was performed on excavator D by lh air conditioning compressor': a part is not who did the work."""
    words = tokens(sentence)
    for i, w in enumerate(words):
        if w != "by" or i + 1 >= len(words):
            continue
        before = words[max(0, i - 8):i]
        deed = any(x in EVENT_VERBS or action_class(x) in ("repair", "upkeep", "check") for x in before)
        after = [x for x in words[i + 1:i + 4] if x not in DETERMINERS]
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


def unsupported_claim(sentence: str, cited: str) -> str | None:
    """The first claim of the sentence the cited text does not make, or None when every claim is supported."""
    why = degenerate(sentence, cited) or ("pastes the source text after a label" if pasted(sentence, cited) else None) \
        or action_as_cause(sentence) or event_subject(sentence) or machine_as_client(sentence) \
        or repaired_to(sentence) or event_replaced(sentence) or participle_noun(sentence) or part_as_doer(sentence)
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


UNITS = {"hours": "hours", "minutes": "minutes", "days": "days", "day": "days", "weeks": "weeks", "week": "weeks",
         "months": "months", "month": "months", "years": "years", "year": "years", "percent": "percent", "bar": "bar"}
SINCE = {"ago", "since"}
SERVICE_NOUNS = {"service", "maintenance", "inspection", "interval", "check", "pm"}


def number_frames(text: str) -> list[tuple[str, str | None, str | None]]:
    """(number, unit, relation) per number: '59.4 months ago' -> ('59.4', 'months', 'ago'); 'for 3 days' -> 'for'."""
    words, out = tokens(text), []
    for i, w in enumerate(words):
        if not w[0].isdigit():
            continue
        unit = UNITS.get(words[i + 1]) if i + 1 < len(words) else None
        nxt = words[i + 2] if unit and i + 2 < len(words) else ""
        relation = "ago" if nxt in SINCE or words[max(0, i - 2):i] == ["has", "been"] else None
        relation = relation or ("for" if i and words[i - 1] == "for" else None)
        relation = relation or ("label" if unit and nxt in SERVICE_NOUNS else None)
        of_service = nxt == "of" and i + 3 < len(words) and words[i + 3] in SERVICE_NOUNS
        relation = relation or ("for" if unit and of_service else None)  # '1000 hours of maintenance': a duration
        out.append((w.replace(",", ".").rstrip("0").rstrip(".") if "." in w or "," in w else w, unit, relation))
    return out


def number_frame_unsupported(sentence: str, cited: str) -> str | None:
    """A number must keep the unit it measures in the source, and a point in time ('N months ago') stays one."""
    src = number_frames(cited)
    for number, unit, relation in number_frames(sentence):
        same = [f for f in src if f[0] == number]
        if not same or not unit:
            continue
        if all(f[1] and f[1] != unit for f in same):
            return f"{number} {unit}: the source gives {number} in {same[0][1]}"
        same = [f for f in same if f[1] == unit]
        if not same:  # '1200 operating hours since …': no unit of its own to compare the frame with
            continue
        if relation == "ago" and not any(f[2] == "ago" for f in same):
            return f"'{number} {unit} ago' is not a point in time the source gives"
        if relation == "for" and any(f[2] in ("ago", "label") for f in same):
            return f"'for {number} {unit}' turns the source's {number} {unit} into a duration"
    return None


def state_attachments(text: str, lenient: bool = False) -> list[tuple[str, frozenset[str]]]:
    """(state class, the nouns it is said of) per stated fault: 'broken grease hose on bucket pin' -> hose, not pin.

    Lenient (for the terse source): every noun of the fault's clause ('coil burnt on prop valve' is said of the
    valve too), except what a part broke off or was damaged by.
    """
    words, out = tokens(text), []
    for i, w in enumerate(words):
        state = state_class(w)
        if not state or any(p in NEGATORS for p in words[max(0, i - 3):i]) or (i and words[i - 1] == "to"):
            continue
        start = _np_start(words, i)
        j = next((j for j in range(i + 1, len(words)) if not _qualifier(words[j])), len(words))
        nxt = words[j] if j < len(words) else "."
        if lenient:
            after = [] if nxt in ("off", "by") else _content(words[i + 1:i + 8])
            out.append((state, frozenset(_content(words[start:i]) + after) - {"machine"}))
            continue
        if _is_object_word(nxt) and nxt not in PREPOSITIONS:  # "a broken grease hose"
            out.append((state, frozenset(_first_np(words[j:j + 6])) - {"machine"}))
            continue
        nps = frozenset(_first_np(words[start:i])) - {"machine"}
        if not nps and nxt in PREPOSITIONS - {"off", "by"}:
            nps = frozenset(_first_np(words[j + 1:j + 7])) - {"machine"}  # "a leak on the boom"
        out.append((state, nps))
    return out


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


PART_HEADS = {stem(w) for w in (
    "hose", "line", "pipe", "cover", "seal", "filter", "bolt", "pin", "mount", "bracket", "guard", "switch",
              "sensor", "valve", "motor", "pump", "cable", "belt", "light", "lamp", "bearing", "bush", "gasket",
              "fitting", "breather", "coupling", "clamp", "plate", "tube", "housing", "element", "relay", "fuse",
              "harness", "connector", "nozzle", "glass", "lens", "cup", "pad", "ring", "shaft", "gear", "chain",
              "door", "step", "rail", "handrail", "wiper", "mirror", "tooth", "teeth", "tip", "adapter", "liner")}


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


def _counted(words: list[str]) -> dict[str, int]:
    """Head stem -> count, for 'N <part words>' with N >= 2 ('3 track pin retaining bolts' -> bolt: 3)."""
    out = {}
    for i, w in enumerate(words[:-1]):
        if w.isdigit() and 2 <= int(w) <= 99:
            run = next(iter(_runs(words[i + 1:i + 6])), [])
            if run and words[i + 1][0].isalpha():
                out[run[-1]] = int(w)
    return out


def quantity_changed(sentence: str, cited: str) -> str | None:
    """'a track pin retaining bolt missing' where the source counts '3 … bolts': one is not three."""
    counted = _counted(tokens(scrub_dates(cited)))  # '2026-09-24 maintenance' counts nothing
    if not counted:
        return None
    words = tokens(sentence)
    for i, w in enumerate(words[:-1]):
        if w in ("a", "an", "one"):
            run = next(iter(_runs(words[i + 1:i + 6])), [])
            if run and words[i + 1][0].isalpha() and run[-1] in counted and not words[i + len(run)].endswith("s"):
                return f"'{w} … {run[-1]}': the source counts {counted[run[-1]]}"
    return None


# Claims about how the sentence's parts hang together (numbers, causes, fitted parts, faults, modality).
STRUCTURE_CHECKS = (machine_fails, machine_is_part, part_as_cause, recipient_changed, conjunct_objects, offer_turned,
                    found_fitted, number_frame_unsupported, cause_by, fitted_with, attachment_unsupported,
                    planned_deed, new_part, truncated_object, quantity_changed, inverted_ok)


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
    if heads and not any(_term_in(t, set(h)) for h in heads for t in head[-1:]):
        return f"'{action}' of {' '.join(sorted(head))}: the source's {action} acts on {' '.join(sorted(heads[0]))}"
    return None


def _object_match(action: str, said: frozenset[str], src: frozenset[str]) -> bool:
    """Some object term of the sentence is in the source's object (the part, not the machine, when a part is named).

    The machine itself may be repaired, checked or serviced, but a record that replaces a part never replaces it.
    """
    parts = said - {"machine"}
    if not parts and action != "replace":
        return True
    return not src or any(_term_in(t, set(src)) for t in (parts or said))


# ---------------------------------------------------------------- dates in any common format
MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"), 1)}
MONTHS |= {m[:3]: i for m, i in list(MONTHS.items())} | {"sept": 9}
_MON = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DATE_FORMS = re.compile(
    rf"(?i)\b(?P<iso>\d{{4}}-\d{{1,2}}-\d{{1,2}})\b"
    rf"|\b(?P<num>\d{{1,2}})[./](?P<num2>\d{{1,2}})[./](?P<numy>\d{{4}})\b"
    rf"|\b(?P<md>{_MON})\s+(?P<mdd>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<mdy>\d{{4}})\b"
    rf"|\b(?P<dm>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<dmm>{_MON})\s*,?\s+(?P<dmy>\d{{4}})\b"
    rf"|\b(?P<my>{_MON})\s+(?:of\s+)?(?P<myy>\d{{4}})\b"
    rf"|\b(?P<mo>{_MON})\s+(?P<mod>\d{{1,2}})(?:st|nd|rd|th)?\b(?![,.]?\s*\d)"
    rf"|\b(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<ddm>{_MON})\b(?![,.]?\s*\d)"
    rf"|\b(?P<ym>\d{{4}})-(?P<ymm>\d{{2}})\b(?!-)")


def _month(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def _iso(y: int | str, m: int | str, d: int | str | None = None) -> str:
    return f"{int(y):04d}-{int(m):02d}" + (f"-{int(d):02d}" if d is not None else "")


def date_mentions(text: str) -> list[tuple[str, set[str]]]:
    """Each date written in the text with the ISO days (or months) it can mean: '25.08.2026' -> {'2026-08-25'}."""
    out = []
    for m in DATE_FORMS.finditer(text):
        g = m.groupdict()
        if g["iso"]:
            y, mo, d = g["iso"].split("-")
            cands = {_iso(y, mo, d)}
        elif g["num"]:
            a, b, y = int(g["num"]), int(g["num2"]), g["numy"]
            cands = {_iso(y, b, a)} if b <= 12 else set()
            cands |= {_iso(y, a, b)} if a <= 12 else set()
        elif g["md"]:
            cands = {_iso(g["mdy"], _month(g["md"]), g["mdd"])}
        elif g["dm"]:
            cands = {_iso(g["dmy"], _month(g["dmm"]), g["dm"])}
        elif g["my"]:
            cands = {_iso(g["myy"], _month(g["my"]))}
        elif g["mo"] or g["dd"]:
            month, day = (g["mo"], g["mod"]) if g["mo"] else (g["ddm"], g["dd"])
            cands = {f"--{_month(month):02d}-{int(day):02d}"}  # a day without its year
        else:
            cands = {_iso(g["ym"], g["ymm"])} if 1 <= int(g["ymm"]) <= 12 else set()
        out.append((m.group(0), cands))
    return out


def dates_in(text: str) -> set[str]:
    """Every ISO day and month a text's dates name (a day also counts as its month)."""
    out: set[str] = set()
    for _, cands in date_mentions(text):
        out |= cands | {c[:7] for c in cands} | {"--" + c[5:] for c in cands if len(c) == 10}
    return out


def years_in(text: str) -> set[str]:
    """The years of a text's dates (a sentence may say 'in 2005' for '2005-03-20')."""
    return {c[:4] for c in dates_in(text) if not c.startswith("--")}


def scrub_dates(text: str) -> str:
    """The text with its dates blanked out (so their digits are not read as numbers); 'on <date>,' goes as a whole,
    so the clause around it stays joined ('repaired on May 2, 2005, with handrails' -> 'repaired with handrails')."""
    return _DATE_SLOT.sub(" ", DATE_FORMS.sub("\x00", text)).replace("\x00", " ")


_DATE_SLOT = re.compile(r"(?i)(?:\b(?:on|dated)\s+)?\x00\s*,?")
