"""Numbers with their units and frames ('59.4 months ago', 'for 3 days'), and counted parts."""

from __future__ import annotations

import re

from sdi.drafting.claims.dates import scrub_dates
from sdi.drafting.claims.lexicon import tokens
from sdi.drafting.claims.phrases import _runs

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


PART_NUMBER = re.compile(r"\b(?:was|is|were|are)\s+(?:p/?n\s*|part\s+)?\d{3,}-\d{2,}\b", re.IGNORECASE)
PART_AS_ERROR = re.compile(r"\b\d{3,5}-\d{2,5} (?:error|fault|alarm|code)\b", re.IGNORECASE)
NUMBER_SUBJECTS = {"part", "p", "pn", "number", "no", "order", "reference", "ref"}


def part_number_as_value(sentence: str, cited: str) -> str | None:
    """'the position deviation (E-401) was 4455-310', 'the 8840-560 error': a part number is what a part is, not the
    value of a fault or an error."""
    if m := PART_AS_ERROR.search(sentence):
        return f"'{m.group(0)}': a part number named as an error"
    for m in PART_NUMBER.finditer(sentence):
        before = tokens(sentence[:m.start()])[-3:]
        if not NUMBER_SUBJECTS & set(before):
            return f"'{m.group(0)}': a part number given as the value of something"
    return None


ERROR_CODE = re.compile(r"(?i)\b(e|err)-?(\d{2,4})\s+([a-z][a-z/]+)")
# What may follow an error code: the word for it, or a word that starts another phrase.
AFTER_CODE = {"error", "errors", "fault", "faults", "alarm", "alarms", "code", "codes", "warning", "message", "on", "and",
              "at", "in", "which", "was", "were", "during", "when", "while", "after", "before", "with", "due", "caused",
              "causing", "because", "the", "is", "has", "had", "for", "to", "of", "or", "as", "but", "so", "that",
              "then", "from", "by", "a", "an", "it", "this", "occurred", "appeared", "showed", "shown", "displayed",
              "reported", "again", "twice", "times", "events", "event", "stop", "stops", "stopped"}


def code_as_part(sentence: str, cited: str) -> str | None:
    """'stopped with an E-101 cutting nozzle' over 'STOPS WITH E-101. DAMAGED CUTTING NOZZLE': an error code is
    not a kind of part; it may name one only where the source writes the two together."""
    note = cited.lower()
    for m in ERROR_CODE.finditer(sentence):
        letters, digits, word = m.group(1).lower(), m.group(2), m.group(3).lower()
        if word not in AFTER_CODE and not re.search(rf"\b{letters}-?{digits}[\s(),:-]+{re.escape(word[:4])}", note):
            return f"'{m.group(0)} …': an error code made part of a thing's name (the source does not join them)"
    return None
