"""Record text as inert data: what a service note or document may carry into a prompt, and what it may not.

A note is data, never instructions. Before any record text reaches a model it is normalised (so look-alike letters
and invisible characters cannot hide a phrase), stripped of markup, links, chat-template tokens, citation-like tags
and structured blobs (so it cannot pose as code, as a source line or as the model's own output), and sentences
that address the model or promise discounts are withheld. What is removed is replaced by a short marker, so a
reviewer reading the prompt sees that something was there.
"""

from __future__ import annotations

import re
import unicodedata

WITHHELD = "(instruction-like text withheld)"
MARKUP = "(markup removed)"
LINK = "(link removed)"
STRUCTURED = "(structured text removed)"
MARKERS = (WITHHELD, MARKUP, LINK, STRUCTURED)

_INVISIBLE = re.compile(r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
                        r"\u3164\ufe00-\ufe0f\ufeff\uffa0]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCKS = re.compile(r"(?is)<\s*(script|style|iframe|object|embed|svg|template)\b.*?(<\s*/\s*\1\s*>|$)")
_CHAT_TOKEN = re.compile(r"<\|[^|<>]{0,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<\s*/?\s*(system|user|assistant)\s*>", re.I)
_TAG = re.compile(r"</?[A-Za-z!][^<>]{0,400}>")
_MD_LINK = re.compile(r"!?\[([^\[\]]{0,200})\]\(\s*[^()\s]{1,500}\s*\)")
_TAIL = r"(?:[^\s'\"<>]*[^\s'\"<>.,;:!?)])?"
_URL = re.compile(rf"(?i)\b(?:(?:https?|ftp|file)://{_TAIL}|(?:javascript|data|vbscript):{_TAIL}|www\.{_TAIL}|"
                  rf"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|example|xyz|ru|cn|info|biz|top)\b(?:/{_TAIL})?)")
_CITE_TAG = re.compile(r"[\[【]\s*[TH]\s*\d{1,3}\s*[\]】]")
_JSON = re.compile(r"\{[^{}]{0,2000}\"[^\"]{1,60}\"\s*:[^{}]{0,2000}\}")
_FENCE = re.compile(r"```+|~~~+")

# A speaker's turn ("SYSTEM:") and phrases that hand the conversation to the note: these take over the rest of it.
_TURN = r"(?:system|assistant|user|human|instructions?)"
_ROLE = rf"(?:{_TURN}|answer|question)"
_ROLE_AT = r"(?:^|[.!?;]\s+|#+\s*)"
_TAKEOVER = r"you are now|you will now|new (?:instructions?|task|rules?)|from now on|jailbreak|developer mode"
_TAKEOVER_DE = r"du bist jetzt|neue anweisung"

_EN = (
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}\b(instruction|prompt|rule|above|previous|earlier|system|guideline)"
    rf"|\b(you must|as an ai|as a language model|system prompt|{_TAKEOVER})\b"
    rf"|{_ROLE_AT}{_ROLE}\s*:"
    r"|\b(tell|inform|assure|remind|convince) (the |this |our )?(customer|client|them|him|her|reader|rep|user)\b"
    r"|\b(mention|say|state|write|claim|respond|reply|answer|output|print|add) (that|with|only|exactly|the following)\b"
    r"|\binstead (say|write|tell|state|recommend)\b"
    r"|\b(do not|don't|never) (mention|cite|tell|reveal|say|show|report|include)\b"
    r"|\bwhen (you )?(write|writing|draft|drafting|summari[sz]e|summari[sz]ing|answer|answering|respond|responding)\b"
    r"|\bbefore (you )?(answer|answering|respond|responding|writing|you write)\b"
    r"|\b(reveal|repeat|print|show|list) (the |your |all |every )+(system|prompt|instructions|sources|customers?'?|"
    r"phone|e-?mail|contacts?)"
    r"|\bnote (to|for) (the )?(ai|model|assistant|llm|bot|chatbot)\b|\b(dear|hey|hi|hello) (ai|assistant|model|bot|gpt)\b"
    r"|\b(message|instruction|order|override) from (the )?[\w ]{0,20}(admin|administrator|system|developer|management)\b"
    r"|\b(sdi|system) (administrator|admin|override)\b"
    r"|\bend of (the )?(sources|records|context|data|notes|document)\b"
    r"|\b(set|change|raise|mark) (this|the) [\w ]{0,20}(priority|opportunity|status)\b"
    r"|\b(offer|give|grant|promise|approve)\b[^.!?\n]{0,40}(\d{1,3}\s*%|\bfree\b|\bno charge\b|\bfor nothing\b|\bgratis\b)"
    r"|\b\d{1,3}\s*%\s*(discount|off)\b[^.!?\n]{0,40}\b(for|to) (the |this )?(customer|client|them)\b"
    r"|\brecommend (the )?competitor"
    r"|\b(in|to|into) (every|each|your|all|any) (answer|response|reply|draft|briefing|talking point|output)s?\b"
    r"|\b\d{4}-\d{2}-\d{2} (repair|maintenance|inspection|replacement|installation|other|service)\b[^.:]{0,40}:"
)
_DE = (
    r"\b(ignorier\w*|vergiss|missachte\w*)\b[^.!?\n]{0,60}\b(anweisung\w*|regel\w*|vorgabe\w*|oben|vorherig\w*)"
    rf"|\b({_TAKEOVER_DE}\w*|systemprompt)\b"
    r"|\b(sag|sage|teile|erzähl\w*)\b[^.!?\n]{0,20}\b(dem kunden|der kundin|ihm|ihr)\b"
    r"|\b(biete|gewähre|gib)\b[^.!?\n]{0,40}(\d{1,3}\s*%|\bgratis\b|\bkostenlos\w*|\brabatt\b)"
)
INSTRUCTION = re.compile(f"{_EN}|{_DE}", re.I | re.M)
HIJACK = re.compile(rf"{_ROLE_AT}{_TURN}\s*:|\b({_TAKEOVER}|{_TAKEOVER_DE})", re.I)
# Split before a speaker's turn too, but not inside "New instructions:" (that whole heading is one withheld part).
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\s+(?=(?:system|assistant|user|human|instruction|answer|question)\s*:)", re.I)


def normalise(text: str) -> str:
    """NFKC (full-width and look-alike forms fold to plain letters), no invisible or control characters."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def strip_active(text: str) -> str:
    """Markup, chat-template tokens, links, fenced blocks, JSON blobs and citation-like tags out of the text."""
    text = _BLOCKS.sub(f" {MARKUP} ", text)
    text = _CHAT_TOKEN.sub(f" {MARKUP} ", text)
    text = _TAG.sub(f" {MARKUP} ", text)
    text = _MD_LINK.sub(lambda m: f" {m.group(1)} {LINK} ", text)
    text = _URL.sub(LINK, text)
    text = _JSON.sub(STRUCTURED, text)
    text = _FENCE.sub(" ", text)
    text = _CITE_TAG.sub("", text)
    return text.replace("[", "(").replace("]", ")")


def withhold_instructions(text: str) -> str:
    """Sentences that address the model (or promise discounts) are replaced by a marker; the rest stays.

    Once a note takes over the conversation ("SYSTEM:", "you are now", "new instructions") everything after it is
    withheld: what follows is the attacker's, however harmless it reads. The raw note stays in the machine file.
    """
    if not INSTRUCTION.search(text):
        return text
    kept: list[str] = []
    taken_over = False  # every takeover phrase is also an instruction, so its own sentence is withheld anyway
    for part in (p.strip() for p in _SENTENCE.split(text) if p and p.strip()):
        kept.append(WITHHELD if taken_over or INSTRUCTION.search(part) else part)
        taken_over = taken_over or bool(HIJACK.search(part))
    return " ".join(k for i, k in enumerate(kept) if not (k == WITHHELD and i and kept[i - 1] == WITHHELD))


def data_text(text: str) -> str:
    """Record text as one line of inert data: normalised, no active content, no instructions."""
    text = strip_active(normalise(text))
    text = re.sub(rf"(?:{re.escape(MARKUP)}\s*)+", f"{MARKUP} ", text)
    text = re.sub(r"\s+([.,;:!?])(?=\s|$)", r"\1", re.sub(r"\s+", " ", text).strip())
    return withhold_instructions(text)


def findings(raw: str) -> list[str]:
    """What had to be withheld or removed from this text before a model may read it (empty: nothing)."""
    out = data_text(raw)
    labels = ("instruction", "markup", "link", "structured")
    found = [label for marker, label in zip(MARKERS, labels) if marker in out and marker not in raw]
    return found + (["citation tag"] if _CITE_TAG.search(normalise(raw)) else [])
