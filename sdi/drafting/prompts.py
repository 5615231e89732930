"""Load versioned prompt files and render them with numbered sources into chat messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

import yaml

from sdi.errors import SdiError
from sdi.llm.base import Message

SYSTEM_FILE = "_system.v1.md"


@dataclass(frozen=True)
class PromptTemplate:
    """One prompt file: its name, version, limits and body."""

    name: str
    version: int
    max_tokens: int
    sentences: int
    body: str
    system: str

    @property
    def sha256(self) -> str:
        """Hash of system text + template body: identifies the exact prompt version."""
        return hashlib.sha256((self.system + "\n---\n" + self.body).encode()).hexdigest()

    def render(self, **values: Any) -> list[Message]:
        """Chat messages; the system text is identical for every task so llama.cpp reuses its KV cache."""
        user = Template(self.body).safe_substitute({k: str(v) for k, v in values.items()})
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user.strip()}]

    def meta(self) -> dict[str, Any]:
        """Name, version, hash."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


@lru_cache(maxsize=32)
def load_prompt(name: str, version: int = 1) -> PromptTemplate:
    """Read `prompts/<name>.v<version>.md` shipped with the package."""
    folder = resources.files("prompts")
    path = folder.joinpath(f"{name}.v{version}.md")
    if not path.is_file():
        raise SdiError(f"prompt {name} v{version} not found", "prompts live in the prompts/ package as NAME.vN.md")
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front)
    system = folder.joinpath(SYSTEM_FILE).read_text(encoding="utf-8").strip()
    return PromptTemplate(meta["name"], int(meta["version"]), int(meta["max_tokens"]), int(meta["sentences"]),
                          body.strip() + "\n", system)


def line_grammar(ids: list[str], max_lines: int) -> str:
    """GBNF forcing `Sentence text [ID].` lines that cite only the given source ids."""
    choices = " | ".join(f'"{i}"' for i in ids)
    optional = " ".join(["line?"] * (max_lines - 1))
    return (
        f"root ::= line {optional}\n"
        f'line ::= [A-Z] [^\\[\\]\\n]{{12,180}} " [" tag "]" ("." | "") "\\n"\n'
        f"tag ::= {choices}\n"
    )
