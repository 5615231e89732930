"""Words of service notes: abbreviations written out, word tables, stems and the classes words name."""

from __future__ import annotations

import re

# Abbreviations and spellings read as written out (applied to sentence and source alike, lowercase).
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\blhs\b", "left side"), (r"\brhs\b", "right side"), (r"\bre[- ](?=[a-z]{3,})", "re"),
    (r"\bl/h(?:and)?\b|\blh\b|\bleft[- ]hand\b", "left"),
    (r"\br/h(?:and)?\b|\brh\b|\bright[- ]hand\b", "right"),
    (r"\bc/o\b|\bchange[ds]? out\b|\bchanging out\b", "replace"),
    (r"\bu/s\b|\bunserviceable\b|\bout of (?:service|order)\b", "broken"),
    (r"\bw/o\b", "without"), (r"\bw/", "with "), (r"\ba/c\b", "aircon"), (r"\bp/n\b|\bpn\b", "part"),
    (r"\bcyls?\b", "cylinder"), (r"\bhyd\b", "hydraulic"), (r"\brepl\b", "replace"), (r"\bchk\b", "check"),
    (r"\badj\b", "adjust"), (r"\binsp\b", "inspection"), (r"\bcust\b\.?", "customer"), (r"\bmaint\b", "maintenance"),
    (r"\bpress\.", "pressure"), (r"\btemp\b", "temperature"), (r"\bvib\b", "vibration"), (r"\beng\b", "engine"),
    (r"\bpwr\b", "power"), (r"\bprot\.", "protective"), (r"\bapprox\b\.?", "approximately"), (r"\bassy\b", "assembly"),
    (r"\blube\b", "lubrication"), (r"\bcircular clip", "circlip"),
    (r"\bwear(?:ing)?[- ]?parts?\b", "spares"),  # a kit of wear parts is stock, not a part worn
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
# "never replaced", "no parts ordered" are claims of their own; "not checked" reads as a finding.
DENIABLE = (DEEDS - {"check"}) | {"order"}
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
which who whom whose what when where while during after before since until about over under again further very too quite slightly extremely
machine machines excavator unit equipment visit visits visited record records service serviced servicing work job task
technician part parts component components item items system one some any all both each other another same new
due because so such just only still already recently previously later today time date day found finding findings
noted note notes showed shows indicated indicates indicating reported stated according following performed carried out made
occurred occur occurs occurring
done completed complete undertaken conducted successfully properly correctly need needed needs required require
issue issues problem problems fault faults attention action actions condition status result results state
your our we you please let may might could would should will can must shall i advisor trusted
including include includes included incl history last latest recent ever previous experiencing experienced
experience experiences expected expect itself themselves ensure ensured ensuring
january february march april may june july august september october november december
""".split())


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
    if len(word) >= 6:  # a letter left out of a whole word: 'craced' is 'cracked'
        return _dropped_letter_forms(id(table), table).get(word)
    return None


_DROPPED: dict[int, dict[str, str]] = {}


def _dropped_letter_forms(key: int, table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Every '-ed'/'-ing' form of a table's stems with one letter (not the first) left out -> its class (cached)."""
    if key not in _DROPPED:
        forms: dict[str, str] = {}
        for name, stems in reversed(table.items()):  # the first class listed wins, as in the exact lookup
            for full in (t + end for t in stems if len(t) >= 4 for end in ("ed", "ing")):
                forms.update({full[:k] + full[k + 1:]: name for k in range(1, len(full))})
        _DROPPED[key] = forms
    return _DROPPED[key]


def _typo(a: str, b: str) -> bool:
    """Equal but for one swapped pair of neighbouring letters or one changed letter."""
    diff = [k for k in range(min(len(a), len(b))) if a[k] != b[k]]
    if len(a) != len(b):
        return False
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                              and a[diff[1]] == b[diff[0]])


def _one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours apart ("srew" ~ "screw")."""
    if len(a) == len(b):
        return a == b or _typo(a, b)
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:k] + long_[k + 1:] == short for k in range(len(long_)))


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


def fault_word(word: str) -> bool:
    """A word that names a fault: a state ('worn', 'leaking') or a generic one ('faulty', 'problem')."""
    return bool(state_class(word)) or _is_generic_fault(word)


PREPOSITIONS = {"on", "in", "at", "of", "for", "from", "off", "near", "under", "behind", "inside", "to", "onto", "into",
                "with", "around", "between", "above", "below", "over"}
EVENT_NOUNS = {"service", "maintenance", "work", "job", "visit", "run", "program", "programme", "calibration", "pm",
               "task", "tasks", "procedure", "overhaul", "update", "backup", "training", "it", "this", "all"}
EVENT_KINDS = {"inspection", "service", "repair", "maintenance", "visit", "replacement", "check"}
PART_HEADS = {stem(w) for w in (
    "hose", "line", "pipe", "cover", "seal", "filter", "bolt", "pin", "mount", "bracket", "guard", "switch",
              "sensor", "valve", "motor", "pump", "cable", "belt", "light", "lamp", "bearing", "bush", "gasket",
              "fitting", "breather", "coupling", "clamp", "plate", "tube", "housing", "element", "relay", "fuse",
              "harness", "connector", "nozzle", "glass", "lens", "cup", "pad", "ring", "shaft", "gear", "chain",
              "door", "step", "rail", "handrail", "wiper", "mirror", "tooth", "teeth", "tip", "adapter", "liner")}
