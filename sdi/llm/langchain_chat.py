"""Any LangChain chat model as an SDI chat backend (the only module that imports LangChain's chat classes)."""

from __future__ import annotations

import importlib
import time
from typing import Any, Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from sdi.errors import SdiError
from sdi.llm.base import GenerationParams, Message, ModelInfo, Usage

FORM = "langchain:package.module:ClassName (its keyword arguments as llm_kwargs in the config file)"
# The names chat model classes give their decoding fields; the first one a class declares is set.
TOKEN_LIMIT_FIELDS = ("max_tokens", "max_completion_tokens", "num_predict", "max_new_tokens", "max_output_tokens")
_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


def load_class(target: str) -> type[BaseChatModel]:
    """The BaseChatModel subclass named package.module:ClassName."""
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SdiError(f"cannot import {module_name} for SDI_LLM=langchain:{target}: {exc}",
                       f"install the package that provides it, or fix the path; form: {FORM}") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise SdiError(f"{module_name} has no class {class_name} (SDI_LLM=langchain:{target})",
                       f"name a LangChain chat model class; form: {FORM}")
    if not (isinstance(cls, type) and issubclass(cls, BaseChatModel)):
        raise SdiError(f"{target} is not a LangChain chat model (BaseChatModel)",
                       "name a chat model class such as langchain_openai:ChatOpenAI")
    return cls


def _text(message: BaseMessage) -> str:
    """The text of a message or chunk, whether its content is a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content
                   if isinstance(b, str) or b.get("type") == "text")


def _name(model: BaseChatModel, target: str) -> str:
    served = getattr(model, "model_name", None) or getattr(model, "model", None)
    return f"{target}#{served}" if isinstance(served, str) and served else target


class LangChainBackend:
    """Streams a LangChain chat model's `.stream()`; temperature, seed and token limit set where the class has them."""

    def __init__(self, target: str, kwargs: dict[str, Any] | None = None) -> None:
        cls = load_class(target)
        try:
            self.model = cls(**(kwargs or {}))
        except Exception as exc:  # pydantic validation or the class's own checks
            raise SdiError(f"cannot create {target} with llm_kwargs {sorted(kwargs or {})}: {exc}",
                           "fix llm_kwargs in the config file (or SDI_LLM_KWARGS as JSON)") from exc
        self.target = target
        self.info = ModelInfo("langchain", _name(self.model, target), None)
        self.last_usage = Usage()
        fields = type(self.model).model_fields
        self._limit_field = next((f for f in TOKEN_LIMIT_FIELDS if f in fields), None)
        self._decoding_fields = [f for f in ("temperature", "seed") if f in fields]

    def _model_for(self, params: GenerationParams) -> BaseChatModel:
        """The model with this call's decoding parameters (a copy, so concurrent calls do not share them)."""
        update: dict[str, Any] = {f: getattr(params, f) for f in self._decoding_fields}
        if self._limit_field:
            update[self._limit_field] = params.max_tokens
        return self.model.model_copy(update=update) if update else self.model

    def stream(self, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        """Yield the model's text chunks; at most max_tokens chunks even if the model takes no token limit."""
        chat = [_ROLES.get(m["role"], HumanMessage)(content=m["content"]) for m in messages]
        start = time.perf_counter()
        first = 0.0
        pieces = 0
        usage: dict[str, int] = {}
        try:
            for chunk in self._model_for(params).stream(chat, stop=list(params.stop) or None):
                for key, value in (getattr(chunk, "usage_metadata", None) or {}).items():
                    if key in ("input_tokens", "output_tokens"):
                        usage[key] = usage.get(key, 0) + int(value)
                text = _text(chunk)
                if not text:
                    continue
                if pieces >= params.max_tokens:
                    break
                if not pieces:
                    first = time.perf_counter() - start
                pieces += 1
                yield text
        except SdiError:
            raise
        except Exception as exc:  # each integration raises its own types (openai.APIError, httpx, ValueError ...)
            raise SdiError(f"the LangChain model {self.target} failed: {type(exc).__name__}: {exc}"[:400],
                           "check llm_kwargs in the config file (base_url, model, api_key) and that its server is up") from exc
        finally:  # also when the caller stops early
            self.last_usage = Usage(usage.get("input_tokens", 0), usage.get("output_tokens", pieces), first,
                                    time.perf_counter() - start)
