"""A fake backend for unit tests: queued replies and a call history."""

from __future__ import annotations

from typing import Iterator

from sdi.llm.base import GenerationParams, Message, ModelInfo, Usage


class FakeBackend:
    """Replies from a queue (the last one repeats); records every call."""

    def __init__(self, replies: list[str] | None = None) -> None:
        self.info = ModelInfo("fake", "fake-queued-replies")
        self.replies = list(replies or ["OK [T1]"])
        self.calls: list[tuple[list[Message], GenerationParams]] = []
        self.last_usage = Usage()

    def stream(self, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        """Yield the next queued reply in small pieces."""
        self.calls.append((messages, params))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        words = reply.split(" ")
        self.last_usage = Usage(sum(len(m["content"]) // 4 for m in messages), len(words))
        for i, word in enumerate(words[: params.max_tokens]):
            yield word if i == 0 else " " + word
