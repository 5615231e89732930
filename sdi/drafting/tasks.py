"""Small model tasks with one source each: the prompt values for a record or a fact, and the cleaning of the reply."""

from __future__ import annotations

import re

from sdi.drafting.types import Source

DECLINE = "NOT IN RECORD"
LABEL = re.compile(r"^\s*(?:\[[^\]\n]{1,40}\]\s*|(?:sentence|answer|finding|talking point|rewritten|rewrite|output|response)"
                   r"\s*[:\-]\s*)", re.I)
# Technicians' short forms that end with a full stop inside a sentence (read as in eval/faithfulness/LABELLING.md).
ABBREVIATIONS = frozenset("prot approx hyd cyl press insp maint chk incl temp repl cust no nr p/n pn pos ref vs".split())
TAG = re.compile(r"\s*\[[^\]\n]{1,12}\]")
# The note in brackets before the sentence ("[LEAKING ACCUMULATOR; FITTED …] - Service visit found …"): dropped.
NOTE_ECHO = re.compile(r"^\s*(?:-\s*)?\[[^\]\n]{13,300}\]\s*[-:–]\s*")
# The record's header alone ("Service record of 2024-01-13 repair on TL3030-001164: [H3]."): nothing was said. A
# header before a copy of the note stays, and the check refuses it as a pasted header.
HEADER_ONLY = re.compile(r"^\s*(?:-\s*)?\[?(?:service record of\s+)?(?:\d{4}-\d{2}-\d{2}\s+)?(?:repair|maintenance|"
                         r"inspection|replacement|service)\s+on\s+[\w-]+(?:\s[A-Z]\b)?\]?\s*[:\-–]?\s*(?:\[[A-Z]\d{1,2}\])?[\s.]*$",
                         re.I)


def record_values(source: Source) -> dict[str, str]:
    """Prompt values for one [H] record: when and what (its header before the first ': ', then the note)."""
    header, _, note = source.text.partition(": ")
    return {"when": header, "record": note or source.text}


def clean_reply(raw: str) -> str | None:
    """The model's one sentence, without labels, quotes or its own tags; None when it declined or said nothing."""
    if DECLINE in raw.upper():
        return None
    line = _first_line(raw)
    line = TAG.sub("", LABEL.sub("", NOTE_ECHO.sub("", line))).strip().strip("\"'“”*").strip()
    if HEADER_ONLY.match(line):  # judged without labels, tags or quotes ('"Service record of … on TL3030-001164:"')
        return None
    sentence = first_sentence(line).rstrip(".!? ").strip()
    return sentence if len(sentence.split()) >= 3 else None


def sentence_done(raw: str) -> bool:
    """The reply so far holds its whole first sentence and the start of another: the rest would be thrown away."""
    line = _first_line(raw)
    if line.count("[") > line.count("]"):  # inside the note it echoes or a tag
        return False
    return len(first_sentence(line)) < len(line)


def _first_line(raw: str) -> str:
    """The reply's first line that says something, stripped (a task's answer is one line)."""
    return next((ln.strip() for ln in raw.splitlines() if ln.strip()), "")


def first_sentence(line: str) -> str:
    """The line up to its first full stop that ends a sentence, not an abbreviation ("PROT. GLASS", "approx. 3 h")."""
    for match in re.finditer(r"[.!?](?=\s+[A-Z(\[]|$)", line):
        word = re.findall(r"[A-Za-z/]+$", line[:match.start()])
        if match.end() < len(line) and word and word[0].lower() in ABBREVIATIONS:
            continue
        return line[:match.end()]
    return line


# Where a sentence's first clause ends: ", and …", ", which …", "; …".
CLAUSE_END = re.compile(r",\s+(?:and|but|which|while|so|causing|leading|resulting|where|with)\b|;\s+", re.I)


def head_clause(sentence: str) -> str | None:
    """The sentence's first clause, when it has a later one and is long enough to say something (5+ words)."""
    match = CLAUSE_END.search(sentence)
    head = sentence[:match.start()].strip() if match else ""
    return head if len(head.split()) >= 5 else None


def cite(sentence: str, ref: str) -> str:
    """The sentence with its source tag, as every draft sentence ends."""
    return f"{sentence} [{ref}]."
