"""LangChain at the seams: SDI's retriever in LCEL chains over a real index, and LangChain chat models as SDI backends."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableParallel, RunnablePassthrough

from retrieval.catalog import Filters
from retrieval.langchain_retriever import SdiRetriever, format_docs
from retrieval.retriever import Retriever
from sdi.config import load_settings
from sdi.errors import ConfigError, SdiError
from sdi.llm.base import GenerationParams, ModelInfo, complete
from sdi.llm.registry import load_backend, parse
from tests.integration.test_retrieval import Env, embedder, env  # noqa: F401 - fixtures

FAKE = "langchain:langchain_core.language_models.fake_chat_models:FakeListChatModel"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What failed on M1?"}]


@pytest.fixture()
def sdi_retriever(env: Env) -> SdiRetriever:
    return SdiRetriever(retriever=Retriever(env.searcher()), k=3)


def test_retriever_returns_documents_that_cite_chunk_span_score_and_scope(env: Env, sdi_retriever: SdiRetriever) -> None:
    docs = sdi_retriever.invoke("E-417", filters=Filters(serial="M1"))
    assert 1 <= len(docs) <= 3
    top = docs[0]
    assert top.id == top.metadata["source_id"] == "service_record:SR-1#c0" and "E-417" in top.page_content
    for doc in docs:
        meta = doc.metadata
        assert meta["serial"] == "M1" and meta["scope"] == {"serial": "M1"}
        start, end = meta["span"]
        assert env.text(meta["record_id"].split(":", 1)[1])[start:end] == doc.page_content
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
    json.dumps([d.metadata for d in docs])  # metadata is plain JSON
    wide = sdi_retriever.invoke("E-417", k=5)
    assert {d.metadata["serial"] for d in wide} >= {"M1", "M4"} and all(d.metadata["scope"] == {} for d in wide)


def test_retriever_piped_into_format_docs(sdi_retriever: SdiRetriever) -> None:
    context = (sdi_retriever | format_docs).invoke("P/N 4471-220")
    blocks = context.split("\n\n")
    assert 1 <= len(blocks) <= 3 and all(re.match(r"\[service_record:SR-\d+#c\d+\] \S", b) for b in blocks)
    assert "4471-220" in context


def test_rag_chain_with_fake_chat_model_cites_the_retrieved_chunks(sdi_retriever: SdiRetriever) -> None:
    prompt = ChatPromptTemplate.from_messages([
        ("system", "Answer from the sources only; cite each fact with its [source id]."),
        ("human", "Sources:\n{context}\n\nQuestion: {question}"),
    ])
    model = FakeListChatModel(responses=["The pressure sensor failed with E-417 [service_record:SR-1#c0]."])
    answer = ({"context": lambda x: format_docs(x["docs"]), "question": lambda x: x["question"]}
              | prompt | model | StrOutputParser())
    chain = RunnableParallel(docs=sdi_retriever, question=RunnablePassthrough()).assign(answer=answer)
    out = chain.invoke("E-417")
    cited = re.findall(r"\[([^\]]+)\]", out["answer"])
    assert cited and set(cited) <= {d.id for d in out["docs"]}


class MeteredChat(BaseChatModel):
    """A chat model that reports its decoding fields in its reply and its token usage in the last chunk."""

    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = None

    @property
    def _llm_type(self) -> str:
        return "metered-test-chat"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        raise NotImplementedError("streaming only")

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for word in [f"t={self.temperature}", f" s={self.seed}", f" m={self.max_tokens}", f" n={len(messages)}"]:
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))
        usage = {"input_tokens": 11, "output_tokens": 4, "total_tokens": 15}
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))


def test_decoding_parameters_reach_the_model_and_usage_comes_from_its_metadata() -> None:
    backend = load_backend("langchain:tests.integration.test_langchain:MeteredChat", {"temperature": 0.7})
    assert backend.info == ModelInfo("langchain", "tests.integration.test_langchain:MeteredChat", None)
    assert complete(backend, MESSAGES, GenerationParams(max_tokens=9, seed=7)) == "t=0.0 s=7 m=9 n=2"
    assert (backend.last_usage.prompt_tokens, backend.last_usage.completion_tokens) == (11, 4)
    assert backend.model.temperature == 0.7  # the configured model is not changed by a call


def test_a_model_that_ignores_the_limit_is_cut_at_max_tokens() -> None:
    backend = load_backend(FAKE, {"responses": ["abcdefghijklmnopqrstuvwxyz"]})
    assert complete(backend, MESSAGES, GenerationParams(max_tokens=5)) == "abcde"
    assert backend.last_usage.completion_tokens == 5


def test_model_errors_become_sdi_errors_with_a_hint() -> None:
    backend = load_backend(FAKE, {"responses": ["never finished"], "error_on_chunk_number": 3})
    with pytest.raises(SdiError, match="FakeListChatModel failed: FakeListChatModelError") as err:
        complete(backend, MESSAGES, GenerationParams())
    assert "llm_kwargs" in err.value.hint
    with pytest.raises(SdiError, match="cannot create") as bad:
        load_backend(FAKE, {"responses": "not a list"})
    assert "llm_kwargs" in bad.value.hint


def test_chat_openai_gets_temperature_seed_and_limit_without_a_request() -> None:
    backend = load_backend("langchain:langchain_openai:ChatOpenAI",
                           {"base_url": "http://127.0.0.1:9/v1", "api_key": "unused", "model": "local", "max_retries": 0})
    model = backend._model_for(GenerationParams(max_tokens=33, seed=5))
    assert (model.temperature, model.seed, model.max_tokens) == (0.0, 5, 33)
    assert backend.info.name == "langchain_openai:ChatOpenAI#local"
    with pytest.raises(SdiError, match="ChatOpenAI failed") as err:  # port 9 on loopback: nothing listens
        complete(backend, MESSAGES, GenerationParams(max_tokens=3))
    assert err.value.hint


def test_llm_kwargs_setting_from_config_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse(FAKE) == ("langchain", FAKE.split(":", 1)[1], "")
    config = tmp_path / "config.yaml"
    config.write_text(f"llm: {FAKE}\nllm_kwargs:\n  responses: [hello]\n", encoding="utf-8")
    monkeypatch.setenv("SDI_CONFIG", str(config))
    monkeypatch.delenv("SDI_LLM", raising=False)
    monkeypatch.delenv("SDI_LLM_KWARGS", raising=False)
    assert load_settings().llm_kwargs == {"responses": ["hello"]}
    monkeypatch.setenv("SDI_LLM_KWARGS", '{"responses": ["from env"]}')
    assert load_settings().llm_kwargs == {"responses": ["from env"]}
    monkeypatch.setenv("SDI_LLM_KWARGS", "{responses: oops")
    with pytest.raises(ConfigError, match="llm_kwargs.*not valid JSON"):
        load_settings()
    monkeypatch.setenv("SDI_LLM_KWARGS", "[1, 2]")
    with pytest.raises(ConfigError, match="llm_kwargs.*mapping of keyword arguments"):
        load_settings()
    monkeypatch.delenv("SDI_LLM_KWARGS")
    monkeypatch.setenv("SDI_LLM", "template")
    with pytest.raises(ConfigError, match="llm_kwargs is only read for llm=langchain"):
        load_settings()


def test_langsmith_tracing_stays_off_even_when_the_environment_asks_for_it() -> None:
    code = ("import sdi.llm.langchain_chat, retrieval.langchain_retriever\n"
            "from langchain_core.tracers.context import _tracing_v2_is_enabled\n"
            "print(_tracing_v2_is_enabled())")
    asks = {"PATH": "/usr/bin:/bin", "LANGCHAIN_TRACING_V2": "true", "LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "x"}
    out = subprocess.run([sys.executable, "-c", code], env=asks, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
