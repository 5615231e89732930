"""Choose the LLM backend from configuration (SDI_LLM); one loaded model per process."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from sdi.errors import SdiError
from sdi.llm.base import ChatBackend
from sdi.llm.catalog import BY_NAME

FORMS = ("smollm2 | NAME from `sdi models list` | gguf:/path/model.gguf[#chat_format] | openai:http://host:port/v1#model | "
         "langchain:package.module:ClassName | template | fake")
LANGCHAIN_TARGET = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_cache: dict[str, ChatBackend] = {}
_lock = threading.Lock()


def parse(spec: str) -> tuple[str, str, str]:
    """(kind, location, option) from an SDI_LLM value; raises SdiError for anything else."""
    spec = spec.strip()
    if spec in ("smollm2", "template", "fake"):
        return spec, "", ""
    if spec in BY_NAME:
        return "catalog", spec, ""
    kind, _, rest = spec.partition(":")
    if kind == "langchain" and LANGCHAIN_TARGET.match(rest):
        return kind, rest, ""
    location, _, option = rest.partition("#")
    if kind == "gguf" and location:
        return kind, location, option
    if kind == "openai" and location.startswith(("http://", "https://")):
        return kind, location, option
    raise SdiError(f"SDI_LLM={spec!r} is not a backend I know", f"use one of: {FORMS}")


def load_backend(spec: str, llm_kwargs: dict[str, Any] | None = None, models_dir: Path | None = None,
                 threads: int | None = None) -> ChatBackend:
    """The backend for a spec, loaded once and reused; a langchain: class is built with llm_kwargs (settings.llm_kwargs),
    a catalog model is looked up in models_dir (settings.models_dir), a local model runs on `threads` (default: all
    cores)."""
    kind, location, option = parse(spec)
    key = f"{spec} {json.dumps(llm_kwargs or {}, sort_keys=True, default=str)}" if kind == "langchain" else spec
    key += f" threads={threads}" if threads else ""
    with _lock:
        if key not in _cache:
            _cache[key] = _build(kind, location, option, llm_kwargs or {}, models_dir, threads)
        return _cache[key]


def _build(kind: str, location: str, option: str, llm_kwargs: dict[str, Any], models_dir: Path | None,
           threads: int | None) -> ChatBackend:
    if kind == "template":
        from sdi.llm.template import TemplateBackend

        return TemplateBackend()
    if kind == "fake":
        from sdi.llm.fake import FakeBackend

        return FakeBackend()
    if kind == "openai":
        from sdi.llm.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(location, option)
    if kind == "langchain":
        from sdi.llm.langchain_chat import LangChainBackend

        return LangChainBackend(location, llm_kwargs)
    from sdi.llm.llamacpp import LlamaCppBackend, bundled_smollm2

    if kind == "smollm2":
        return LlamaCppBackend(bundled_smollm2(), backend="smollm2", threads=threads)
    if kind == "catalog":
        from sdi.llm.artifacts import checked_model

        if models_dir is None:
            raise SdiError(f"SDI_LLM={location}: no models folder was given", "load it through the settings (SDI_HOME/models)")
        path, sha256 = checked_model(location, models_dir)  # size (and hash once) before llama.cpp
        return LlamaCppBackend(path, backend=location, sha256=sha256, threads=threads)
    return LlamaCppBackend(Path(location), backend="gguf", chat_format=option or None, threads=threads)
