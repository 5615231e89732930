"""Any OpenAI-compatible chat server on the customer's network (llama.cpp server, vLLM, Ollama), over HTTP."""

from __future__ import annotations

import json
import time
from typing import Iterator

import httpx

from sdi.errors import SdiError
from sdi.llm.base import GenerationParams, Message, ModelInfo, Usage


class OpenAICompatBackend:
    """Streams /v1/chat/completions with temperature 0 and a fixed seed."""

    def __init__(self, base_url: str, model: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.client = httpx.Client(timeout=timeout, trust_env=False)
        self.info = ModelInfo("openai", model or "default", None)
        self.last_usage = Usage()

    def stream(self, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        """Yield content deltas from the server's SSE stream."""
        body = {"model": self.model, "messages": messages, "temperature": params.temperature, "seed": params.seed,
                "max_tokens": params.max_tokens, "stream": True}
        if params.stop:
            body["stop"] = list(params.stop)
        start = time.perf_counter()
        first = 0.0
        pieces = 0
        try:
            with self.client.stream("POST", f"{self.base_url}/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise SdiError(f"LLM server {self.base_url} answered {response.status_code}: {response.text[:200]}",
                                   "check SDI_LLM=openai:http://host:port/v1#model (model name and path)")
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    delta = json.loads(data)["choices"][0].get("delta", {}).get("content") or ""
                    if delta:
                        if not pieces:
                            first = time.perf_counter() - start
                        pieces += 1
                        yield delta
        except httpx.HTTPError as exc:
            raise SdiError(f"cannot reach the LLM server at {self.base_url}: {exc}",
                           "start the server or fix SDI_LLM=openai:http://host:port/v1#model") from exc
        finally:  # also when the caller stops early
            self.last_usage = Usage(0, pieces, first, time.perf_counter() - start)
