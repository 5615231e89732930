"""Sentences with typed slots: worded once on the server, their numbers, amounts and dates formatted by the reader
(the web UI in the user's locale, the CLI in English)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Arg = dict[str, Any]  # {"num": x, "digits": d} | {"date": "YYYY-MM-DD"} | {"money": x, "currency": c} | {"text": s}
SLOT = re.compile(r"\{(\w+)\}")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")


def num(value: float | int, digits: int | None = None) -> Arg:
    """A number; `digits` decimals at most (default: 0 for whole numbers and from 100 up, 1 from 1 up, else 2)."""
    if digits is None:
        v = abs(float(value))
        digits = 0 if float(value).is_integer() or v >= 100 else 1 if v >= 1 else 2
    return {"num": value, "digits": digits}


def day(value: str | date | datetime) -> Arg:
    """A calendar day (a timestamp keeps only its day)."""
    return {"date": value.isoformat()[:10] if isinstance(value, (date, datetime)) else str(value)[:10]}


def money(value: float, currency: str | None) -> Arg:
    """An amount with its currency code (none: a plain number)."""
    return {"money": value, "currency": currency or ""}


def words(value: Any) -> Arg:
    """Text as it is."""
    return {"text": ", ".join(map(str, value)) if isinstance(value, list) else str(value)}


def auto(value: Any) -> Arg:
    """A slot value typed by what it is: numbers, ISO days, lists and text."""
    if isinstance(value, dict) and len(set(value) & {"num", "date", "money", "text"}) == 1:
        return value
    if isinstance(value, bool):
        return words("yes" if value else "no")
    if isinstance(value, (int, float)):
        return num(value)
    if isinstance(value, (date, datetime)) or (isinstance(value, str) and ISO_DAY.match(value)):
        return day(value)
    return words("–" if value is None else value)


def plain_arg(arg: Arg) -> str:
    """One slot in English (what the CLI prints; the browser formats the same slot in its own locale)."""
    if "num" in arg:
        text = f"{float(arg['num']):,.{arg.get('digits', 0)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if "money" in arg:
        return f"{plain_arg(num(arg['money'], 0))} {arg.get('currency') or ''}".strip()
    if "date" in arg:
        try:
            d = date.fromisoformat(arg["date"])
        except ValueError:
            return str(arg["date"])
        return f"{d.day} {d:%b %Y}"
    return str(arg.get("text", ""))


@dataclass(frozen=True)
class Phrase:
    """English text with {name} slots and the typed value of each slot."""

    text: str
    args: dict[str, Arg] = field(default_factory=dict)

    def plain(self) -> str:
        """The sentence in English."""
        return SLOT.sub(lambda m: plain_arg(self.args[m.group(1)]) if m.group(1) in self.args else m.group(0), self.text)

    def short(self) -> "Phrase":
        """The sentence without its comparison (the part after ' — ')."""
        text = self.text.split(" — ")[0]
        used = set(SLOT.findall(text))
        return Phrase(text, {k: v for k, v in self.args.items() if k in used})

    def to_dict(self) -> dict[str, Any]:
        """For the API: text, args and the English rendering."""
        return {"text": self.text, "args": self.args, "plain": self.plain()}


def phrase(template: str, **values: Any) -> Phrase:
    """A phrase from a template and its slot values (typed by `auto` unless given as an Arg)."""
    used = set(SLOT.findall(template))
    return Phrase(template, {k: auto(v) for k, v in values.items() if k in used})


def join(parts: list[Phrase], sep: str = ", ", before: str = "", after: str = "") -> Phrase:
    """Several phrases as one (their slots renamed so they cannot collide)."""
    texts, args = [], {}
    for i, p in enumerate(parts):
        texts.append(SLOT.sub(lambda m, i=i: "{" + f"p{i}_{m.group(1)}" + "}", p.text))
        args.update({f"p{i}_{k}": v for k, v in p.args.items()})
    return Phrase(before + sep.join(texts) + after, args)
