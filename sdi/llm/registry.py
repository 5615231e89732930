"""Choose the LLM backend from configuration (SDI_LLM); one loaded model per process."""

from __future__ import annotations

import threading
from pathlib import Path

from sdi.errors import SdiError
from sdi.llm.base import ChatBackend

FORMS = "smollm2 | gguf:/path/model.gguf[#chat_format] | openai:http://host:port/v1#model | template | fake"
_cache: dict[str, ChatBackend] = {}
_lock = threading.Lock()


def parse(spec: str) -> tuple[str, str, str]:
    """(kind, location, option) from an SDI_LLM value; raises SdiError for anything else."""
    spec = spec.strip()
    if spec in ("smollm2", "template", "fake"):
        return spec, "", ""
    kind, _, rest = spec.partition(":")
    location, _, option = rest.partition("#")
    if kind == "gguf" and location:
        return kind, location, option
    if kind == "openai" and location.startswith(("http://", "https://")):
        return kind, location, option
    raise SdiError(f"SDI_LLM={spec!r} is not a backend I know", f"use one of: {FORMS}")


def load_backend(spec: str) -> ChatBackend:
    """The backend for a spec, loaded once and reused."""
    kind, location, option = parse(spec)
    with _lock:
        if spec not in _cache:
            _cache[spec] = _build(kind, location, option)
        return _cache[spec]


def _build(kind: str, location: str, option: str) -> ChatBackend:
    if kind == "template":
        from sdi.llm.template import TemplateBackend

        return TemplateBackend()
    if kind == "fake":
        from sdi.llm.fake import FakeBackend

        return FakeBackend()
    if kind == "openai":
        from sdi.llm.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(location, option)
    from sdi.llm.llamacpp import LlamaCppBackend, bundled_smollm2

    if kind == "smollm2":
        return LlamaCppBackend(bundled_smollm2(), backend="smollm2")
    return LlamaCppBackend(Path(location), backend="gguf", chat_format=option or None)
