"""Dates in any common format: the ISO days and months they can mean, and text with them blanked out."""

from __future__ import annotations

import re

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
