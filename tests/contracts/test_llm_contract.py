"""Every LLM backend passes the same contract: streams text, deterministic at temperature 0, respects limits."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Iterator

import httpx
import pytest

from sdi.errors import SdiError
from sdi.llm.base import ChatBackend, GenerationParams, complete
from sdi.llm.fake import FakeBackend
from sdi.llm.llamacpp import bundled_smollm2
from sdi.llm.registry import load_backend, parse
from sdi.llm.template import TemplateBackend

MESSAGES = [
    {"role": "system", "content": "Answer in one short sentence."},
    {"role": "user", "content": "Name one thing a maintenance technician checks on a press brake."},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    """A real llama.cpp-compatible server (llama-cpp-python's) on loopback, serving the bundled model."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_smollm2()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=2, trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("llama_cpp.server did not come up within 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


LANGCHAIN_FAKE = "langchain:langchain_core.language_models.fake_chat_models:FakeListChatModel"


@pytest.fixture(params=["fake", "template", "smollm2", "openai", "langchain-fake", "langchain-openai"])
def backend(request: pytest.FixtureRequest) -> ChatBackend:
    if request.param == "fake":
        return FakeBackend(["A technician checks the hydraulic oil level [T1]."])
    if request.param == "template":
        return TemplateBackend()
    if request.param == "smollm2":
        return load_backend("smollm2")
    if request.param == "langchain-fake":  # cycles its replies and streams them piece by piece
        return load_backend(LANGCHAIN_FAKE, {"responses": ["A technician checks the hydraulic oil level [T1]."]})
    if request.param == "langchain-openai":
        return load_backend("langchain:langchain_openai:ChatOpenAI", {
            "base_url": request.getfixturevalue("llama_server"), "api_key": "not-needed-on-loopback",
            "model": "smollm2", "max_retries": 0, "timeout": 120})
    return load_backend(f"openai:{request.getfixturevalue('llama_server')}#smollm2")


def test_backend_contract(backend: ChatBackend) -> None:
    params = GenerationParams(max_tokens=24)
    assert isinstance(backend, ChatBackend)
    assert backend.info.backend in ("fake", "template", "smollm2", "openai", "langchain") and backend.info.name
    pieces = list(backend.stream(MESSAGES, params))
    assert all(isinstance(p, str) for p in pieces)
    text = "".join(pieces)
    assert complete(backend, MESSAGES, params) == text  # temperature 0 + fixed seed: same text twice
    assert backend.last_usage.completion_tokens <= params.max_tokens
    if backend.info.backend == "template":
        assert text == ""  # no model: the drafting step builds every sentence from evidence
    else:
        assert text.strip()


def test_a_caller_may_stop_the_stream_and_ask_again(backend: ChatBackend) -> None:
    """Generation stops when the caller has what it wants; the usage says so and the next call runs (no held lock)."""
    params = GenerationParams(max_tokens=24)
    whole = complete(backend, MESSAGES, params)
    first = complete(backend, MESSAGES, params, until=lambda text: len(text.split()) >= 2)
    assert whole.startswith(first)
    if len(whole.split()) > 3:
        assert len(first) < len(whole) and backend.last_usage.completion_tokens < params.max_tokens
    assert complete(backend, MESSAGES, params) == whole


def test_bundled_model_is_identified_by_its_file_hash() -> None:
    import hashlib

    backend = load_backend("smollm2")
    assert backend.info.sha256 == hashlib.sha256(bundled_smollm2().read_bytes()).hexdigest()


def test_grammar_constrains_the_local_model() -> None:
    from sdi.drafting.prompts import line_grammar

    backend = load_backend("smollm2")
    text = complete(backend, MESSAGES, GenerationParams(max_tokens=80, grammar=line_grammar(["T1", "H1"], 2)))
    lines = [l for l in text.splitlines() if l.strip()]
    assert lines and all(l.rstrip(".").endswith(("[T1]", "[H1]")) for l in lines)


@pytest.mark.parametrize(
    "spec,words",
    [("gpt4", "is not a backend"), ("gguf:/nowhere/model.gguf", "model file not found"),
     ("openai:ftp://x", "is not a backend"), ("langchain:no_such_package.chat:Model", "cannot import"),
     ("langchain:langchain_core.messages:NoSuchChat", "has no class"),
     ("langchain:langchain_core.messages:AIMessage", "is not a LangChain chat model")],
)
def test_bad_backend_config_says_how_to_fix_it(spec: str, words: str) -> None:
    with pytest.raises(SdiError) as err:
        load_backend(spec)
    assert words in str(err.value) and err.value.hint


def test_unreachable_server_is_a_clear_error() -> None:
    backend = load_backend(f"openai:http://127.0.0.1:{_free_port()}/v1#none")
    with pytest.raises(SdiError, match="cannot reach the LLM server"):
        complete(backend, MESSAGES, GenerationParams(max_tokens=5))


def test_spec_parsing() -> None:
    assert parse("gguf:/m/x.gguf#chatml") == ("gguf", "/m/x.gguf", "chatml")
    assert parse("openai:http://127.0.0.1:8080/v1#llama3") == ("openai", "http://127.0.0.1:8080/v1", "llama3")
