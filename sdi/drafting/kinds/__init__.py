"""One recipe per draft kind: which sources, which prompt, which template sentences, in which order."""

from __future__ import annotations

from typing import Callable, Iterator

from sdi.drafting.kinds import ask, brief, talking_points, why
from sdi.drafting.types import Draft, Sentence

Recipe = Callable[..., Iterator[Sentence | Draft]]

KINDS: dict[str, Recipe] = {"why": why.compose, "ask": ask.compose, "brief": brief.compose,
                            "talking_points": talking_points.compose}
