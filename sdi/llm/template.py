"""The `template` backend: no LLM at all; drafts are built only from deterministic evidence text."""

from __future__ import annotations

from typing import Iterator

from sdi.llm.base import GenerationParams, Message, ModelInfo, Usage


class TemplateBackend:
    """Generates nothing, so every sentence of a draft comes from the evidence templates."""

    def __init__(self) -> None:
        self.info = ModelInfo("template", "deterministic-template")
        self.last_usage = Usage()

    def stream(self, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        """No text: the drafting step fills in template sentences."""
        self.last_usage = Usage()
        return iter(())
