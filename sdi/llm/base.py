"""The LLM seam: a Protocol every backend implements, plus the shared parameter and info types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


@dataclass(frozen=True)
class ModelInfo:
    """Which model produced a draft: recorded with every draft."""

    backend: str  # smollm2, gguf, openai, template, fake
    name: str
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"backend": self.backend, "name": self.name, "sha256": self.sha256}


@dataclass(frozen=True)
class GenerationParams:
    """Decoding parameters: deterministic by default (temperature 0, fixed seed)."""

    max_tokens: int = 200
    temperature: float = 0.0
    seed: int = 42
    stop: tuple[str, ...] = ()
    grammar: str | None = None  # GBNF; backends that cannot constrain output ignore it

    def to_dict(self) -> dict[str, Any]:
        """JSON form (grammar summarised by its length)."""
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, "seed": self.seed,
                "stop": list(self.stop), "grammar": bool(self.grammar)}


@dataclass
class Usage:
    """What the last generation cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float = 0.0
    total_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ChatBackend(Protocol):
    """A chat model: streams text for a list of messages."""

    info: ModelInfo
    last_usage: Usage

    def stream(self, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        """Yield generated text pieces as they are produced."""
        ...


def complete(backend: ChatBackend, messages: list[Message], params: GenerationParams,
             until: Callable[[str], bool] | None = None) -> str:
    """The generated text; with `until`, generation stops as soon as the text so far satisfies it."""
    if until is None:
        return "".join(backend.stream(messages, params))
    text = ""
    pieces = backend.stream(messages, params)
    try:
        for piece in pieces:
            text += piece
            if until(text):
                break
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # stops the model now, not when the generator is collected
    return text
