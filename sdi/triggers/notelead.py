"""Leads in technicians' own words: a service note that recommends work or records a customer's request.

`find_leads(text)` is pure and deterministic. Its patterns are written in the subset that Python `re` (with
re.ASCII) and DuckDB's RE2 read the same way (no look-around, no back-references, ASCII \\b \\w \\s, umlauts as
explicit classes), so the note_lead rule (sdi/triggers/rules/note_lead.py) runs the very same patterns in SQL
and the two agree byte for byte (tests/unit/test_notelead.py). Gaps are unbounded lazy repeats inside a clause:
bounded ones ({0,40}?) made RE2 three times slower. What counts as a lead, and which offer, is written down in
eval/note_leads/LABELLING.md; in short:

- a lead is one clause: an optional subject or negation (`pre`), a cue (a recommendation verb, a customer-side
  request verb, a quote/offer noun, a need of a sellable product, work deferred to a later visit, a participle
  at the end: "Tausch empfohlen") and the rest of the clause up to . ; ! ? , " - " or a line break;
- it must point to an offer (the first of OFFER_PATTERNS whose words occur in it); a request with no offer
  ("customer requested" after work done, "wants machine back Monday") is no lead;
- a negated or closed one is no lead: "no quote needed", "customer declined", "not interested", "as per quote"
  (work done on an accepted quote). A quote *sent* is still a lead: an open offer the rep should follow up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["recommendation", "customer_request"]
OFFER_KINDS = ("retrofit", "contract", "overhaul", "parts_kit", "new_machine", "training", "inspection", "repair",
               "maintenance", "quote")
TRIM = " ,:-"  # stripped from the end of a span (same set in SQL rtrim)


def fuzzy(*words: str) -> str:
    """An alternation of words and their one-slip typos (swapped neighbours, dropped or doubled letter)."""
    variants: set[str] = set()
    for word in words:
        variants.add(word)
        if len(word) < 5:
            continue
        for i in range(1, len(word) - 1):
            variants.add(word[:i] + word[i + 1] + word[i] + word[i + 2:])
            variants.add(word[:i] + word[i + 1:])
            variants.add(word[:i] + word[i] + word[i:])
    ordered = sorted(variants, key=lambda v: (-len(v), v))
    return "(?:" + "|".join(re.escape(v).replace("\\ ", " ") for v in ordered) + ")"


_AE, _OE, _UE = "(?:[äÄ]|ae)", "(?:[öÖ]|oe)", "(?:[üÜ]|ue)"
_CLAUSE = r"(?:[^.;!?,\n\-]|-[^ .;!?,\n\-])"  # one character of a clause (a " - " ends it, "c/o" and "2-way" do not)

WHO = (r"\b(?:" + fuzzy("customer") + r"s?|cust\.?|custs|cstmr|client|clients|the client|operators?"
       r"|production(?: manager)?|prod\.? mgr|plant manager|maintenance manager|maint\.? manager|shift supervisor"
       r"|owner|kunden?|kundin|kd\.?|kde\.?|betreiber|bediener|produktionsleit\w*|werkstattleit\w*"
       r"|instandhaltung\w*|schichtleit\w*|fertigungsleit\w*|meister)")
REQUEST = (r"\b(?:" + fuzzy("asked", "requested") +
           r"|request|requests|wants|wanted|enquired|inquired|interested|would like|asks|wd like|interest in"
           r"|w" + _UE + r"nsch\w*|m" + _OE + r"chte\w*|gefragt|nachgefragt|angefragt|bittet|interessiert\w*"
           r"|interesse an|erkundigt\w*)")
# Verbs that are a request only with a customer-side subject ("cust will order", not "will replace next visit").
WEAK_REQUEST = (r"(?:\b(?:considering|considers|ask|want|will|wollen|wish(?:es|ed)?|looking (?:for|at|into)|plans?"
                r"|planning|fragt\w*|bat)\b|" + _UE + r"berleg\w*)")  # no \b before an umlaut: RE2's \b is ASCII
RECOMMEND = (r"\b(?:" + fuzzy("recommend") +
             r"\w*|suggest\w*|sugest\w*|advised|advise|advises|propose[sd]?|rec+om+[ae]nd\w*|rec+omend\w*"
             r"|recom+\.?|rec[.:]|reco\b"
             r"|strongly advise"
             r"|empf\.|empf(?:" + _AE + r"hl|ehl|iehl|ohl)\w*|vorgeschlagen|vorschlag\w*|schlage\w*|raten"
             r"|rate (?:zu|dazu)|geraten)")
QUOTE = (r"\b(?:" + fuzzy("quote") + r"|quotation|estimate|qte|quot\.|offers?|rfq|angebot\w*"
         r"|kostenvoranschlag\w*|kva|preisanfrage)\b")
PRODUCT = (r"(?:retrofit\w*|upgrade\w*|moderni[sz]\w*|overhaul\w*|kit\b|kits\b|spares?\b|contract\w*|training"
           r"|audit\b|inspection|" + _UE + r"berholung\w*|nachr" + _UE + r"st\w*|schulung\w*|wartungsvertrag\w*"
           r"|ersatzteil\w*)")
NEED = (r"\b(?:needs?|needed|require[sd]?|requiring|braucht|ben" + _OE + r"tigt)\b" + _CLAUSE + "*?" + PRODUCT +
        r"|\b" + PRODUCT + _CLAUSE + r"*?\b(?:needed|required|ben" + _OE + r"tigt|erforderlich|n" + _OE + r"tig)\b")
_WORKVERB = (r"(?:" + fuzzy("replaced") + r"|replace|changed|change out|changeout|renewed|repaired|overhauled"
             r"|welded|repl|c/o|done|fitted|tausch\w*|austausch\w*|getauscht|wechsel\w*|gewechselt|erneuer\w*"
             r"|repar\w*)")
DEFER = (r"\b(?:to be |tbe |zu )?" + _WORKVERB + _CLAUSE + r"*?\b(?:next|at next|n" + _AE +
         r"chste\w*)\s+(?:visit|service|down ?day|shut ?down|pm|stop|besuch\w*|wartung|service\w*|termin|stillstand)")

# German puts the participle last ("Tausch der Pumpe empfohlen"); so do terse notes ("overhaul recommended").
TRAILING = (r"[^.;!?,\n\s\-]" + _CLAUSE + r"*?\b(?:empfohlen|vorgeschlagen|angeraten|ratsam|erw" + _UE + r"nscht|gew"
            + _UE + r"nscht|angefragt|anbieten|sollte\w*|recommended|suggested|advisable|should be|should get"
            r"|should have|should consider)\b")
_SUBJECT = WHO + _CLAUSE + r"*?\s"
_REQUESTER = WHO + _CLAUSE + r"*?(?:," + _CLAUSE + r"*?)?\s"  # one comma may come before a request verb
PRE = r"(?:" + _SUBJECT + r"|\b(?:no|not|kein\w*|nicht|as|per|lt\.?|laut|gem\.|gem" + _AE + r"(?:ss|ß))\s+)?"
CUE = "(?:" + "|".join((REQUEST, RECOMMEND, QUOTE, NEED, DEFER, TRAILING)) + ")"
# Groups: 1 pre, 2 cue and rest; or 3 subject, 4 weak verb and rest (one pair is empty; SQL rewrites with \1\3 \2\4).
LEAD = ("(?i)(?:(" + PRE + ")(" + CUE + _CLAUSE + "*)|(" + _REQUESTER + ")((?:" + REQUEST + "|" + WEAK_REQUEST + ")"
        + _CLAUSE + "*))")

OFFER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("retrofit", r"retrofit\w*|retro-?fit|upgrade\w*|moderni[sz]\w*|new control|control retrofit|camera\w*"
                 r"|fit-?up|nachr" + _UE + r"st\w*|umr" + _UE + r"st\w*|" + fuzzy("retrofit", "upgrade")),
    ("contract", r"contract\w*|\bsla\b|warranty|warr\.|faster response|response time|service agreement|vertrag\w*"
                 r"|garantie\w*|reaktionszeit\w*|" + fuzzy("contract", "warranty")),
    ("overhaul", r"overhaul\w*|rebuild|general[" + "üÜ" + r"u]berholung|" + _UE + r"berhol\w*|revision\b"
                 r"|" + fuzzy("overhaul")),
    ("parts_kit", r"\bkits?\b|\bspares?\b|spare parts?|wear parts|on stock|in stock|ersatzteil\w*|verschlei\w*"
                  r"|vorr" + _AE + r"tig"
                  r"|teilepaket\w*|\bpaket\b|lager\w* vorr\w*"),
    ("new_machine", r"trade-?in|newer model|new model|new machine|replacement machine|successor|neumaschine\w*"
                    r"|neuanschaffung\w*|new purchase"
                    r"|neue maschine\w*|nachfolge\w*|ersatzmaschine\w*|inzahlungnahme"),
    ("training", r"training|schulung\w*|einweisung\w*|" + fuzzy("training")),
    ("inspection", r"inspection|\binsp\b|audit\b|checked before|safety check|\bndt\b|pr" + _UE + r"fung\w*|\buvv\b"
                   r"|inspektion\w*|sicherheitscheck\w*"),
    ("repair", r"replace\w*|\brepl\b|change ?out|c/o|repair\w*|\bfix\w*|renew\w*|\bnew\b|\bneue[nmrs]?\b"
               r"|tausch\w*|getauscht|ersetz\w*|erneuer\w*|reparatur\w*|repar\w*|wechsel\w*|" +
               fuzzy("replacement", "repair")),
    ("maintenance", r"service interval|maint\w*|servicing|preventive|wartung\w*|inspection interval"
                    r"|" + fuzzy("maintenance")),
    ("quote", QUOTE.removeprefix(r"\b(?:").removesuffix(r")\b")),
)
# Before the cue: a negation, a refusal, or "as per" / "lt." (work done on an accepted quote).
NEGATED_PRE = (r"(?i)\b(?:as|no|not|never|kein\w*|nicht|declined?|declines|refused?|rejected|does ?n[o']?t"
               r"|did ?n[o']?t|don'?t|doesnt|didnt|per|lt\.?|laut|gem\.|gem" + _AE + r"(?:ss|ß)|abgelehnt|lehnt\w*)\b")
# Anywhere in the span: closed, or done as recommended.
NEGATED_SPAN = (r"(?i)\b(?:declined|rejected|refused|not (?:needed|required|wanted|interested|necessary)|no longer"
                r"|cancell?ed|abgelehnt|storniert|as (?:recommended|requested|advised|quoted|suggested)"
                r"|wie (?:empfohlen|gew" + _UE + r"nscht)|per quote|laut angebot"
                r"|nicht (?:n" + _OE + r"tig|erforderlich|gew" + _UE + r"nscht|gewollt|notwendig)"
                r"|kein (?:bedarf|interesse))\b")
REQUEST_CUE = "(?i)^(?:" + REQUEST + "|" + WEAK_REQUEST + ")"

_LEAD_RE = re.compile(LEAD, re.ASCII)
_OFFER_RES = tuple((name, re.compile("(?i)(?:" + pattern + ")", re.ASCII)) for name, pattern in OFFER_PATTERNS)
_NEG_PRE_RE = re.compile(NEGATED_PRE, re.ASCII)
_NEG_SPAN_RE = re.compile(NEGATED_SPAN, re.ASCII)
_REQUEST_RE = re.compile(REQUEST_CUE, re.ASCII)
_WHO_RE = re.compile("(?i)^" + WHO, re.ASCII)


@dataclass(frozen=True)
class Lead:
    """One lead in a note: who speaks, the offer it points to, and the exact span (text[start:end])."""

    kind: Kind
    offer: str
    start: int
    end: int
    span: str


def offer_of(span: str) -> str | None:
    """The first offer kind whose words occur in the span (None: the span points to no offer)."""
    return next((name for name, pattern in _OFFER_RES if pattern.search(span)), None)


def kind_of(pre: str, cue: str) -> Kind:
    """A customer-side subject or a request verb makes a customer request; anything else is the technician's."""
    return "customer_request" if _WHO_RE.search(pre) or _REQUEST_RE.search(cue) else "recommendation"


def _clean(text: str) -> str:
    # The SQL marks matches with \x01-\x03; the same-length blank keeps offsets equal on both sides.
    return text.translate({1: " ", 2: " ", 3: " "})


def find_leads(text: str) -> list[Lead]:
    """Every lead in a note, in text order."""
    leads = []
    for m in _LEAD_RE.finditer(_clean(text or "")):
        pre, cue = m.group(1) or m.group(3) or "", m.group(2) or m.group(4)
        span = m.group(0).rstrip(TRIM)
        offer = offer_of(_WHO_RE.sub("", pre, count=1) + cue)  # "maintenance manager" names no offer
        if offer is None or _NEG_PRE_RE.search(pre) or _NEG_SPAN_RE.search(span):
            continue
        leads.append(Lead(kind_of(pre, cue), offer, m.start(), m.start() + len(span), span))
    return leads
