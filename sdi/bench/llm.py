"""`sdi bench llm`: why and brief with the default model, next to bare llama-cpp-python on the same prompts."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sdi.audit.log import AuditLog
from sdi.config import load_settings
from sdi.drafting.service import DraftService
from sdi.llm.base import GenerationParams
from sdi.llm.llamacpp import bundled_smollm2
from sdi.store import MachineFile
from sdi.triggers.opportunities import list_opportunities


def _prepare(home: Path, machines: int) -> None:
    if (home / "machine-file.duckdb").is_file() and (home / "vector-store").is_dir():
        return
    sdi = str(Path(sys.executable).parent / "sdi")
    env_home = {"SDI_HOME": str(home)}
    import os

    for args in (["demo", "--no-serve", "--machines", str(machines)], ["index"]):
        subprocess.run([sdi, *args], check=True, env={**os.environ, **env_home}, stdout=subprocess.DEVNULL)


def _bare(llm: Any, messages: list[dict[str, str]], params: dict[str, Any]) -> tuple[float, float, int]:
    """(time to first token, total seconds, completion tokens) for plain create_chat_completion."""
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(params["grammar_text"], verbose=False) if params.get("grammar_text") else None
    start = time.perf_counter()
    first, n = 0.0, 0
    for chunk in llm.create_chat_completion(messages=messages, temperature=0.0, seed=params["seed"],
                                            max_tokens=params["max_tokens"], grammar=grammar, stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            first = first or time.perf_counter() - start
            n += 1
    return first, time.perf_counter() - start, n


def run(workdir: Path, machines: int = 400, samples: int = 5) -> None:
    """Print per-kind figures and the ratio of our decode speed to bare llama.cpp's."""
    from llama_cpp import Llama

    home = workdir / "llm-home"
    _prepare(home, machines)
    settings = load_settings(home=home, llm="smollm2")
    with MachineFile(settings.db_path) as db:
        svc = DraftService(settings, db)
        bare_llm = Llama(model_path=str(bundled_smollm2()), n_ctx=2048, seed=42, verbose=False)
        opps = list_opportunities(db)[:samples]
        rows = []
        for kind in ("why", "brief"):
            ours, bare, totals, repaired, checked, prompt_tokens = [], [], [], 0, 0, []
            for opp in opps:
                start = time.perf_counter()
                draft = svc.why(opp["id"]) if kind == "why" else svc.brief(opp["serial"])
                totals.append(time.perf_counter() - start)
                usage = svc.backend.last_usage
                entry = AuditLog(home).get(draft.audit_id)["payload"]
                prompt_tokens.append(usage.prompt_tokens)
                decode = usage.total_s - usage.first_token_s
                ours.append((usage.first_token_s, usage.completion_tokens / decode if decode > 0 else 0.0))
                repaired += draft.check.repaired + draft.check.dropped
                checked += draft.check.checked
                sent = [c for c in entry["calls"] if c["sent"]] or [{"messages": entry["rendered_prompt"]}]
                b_first, b_total, b_n = _bare(bare_llm, sent[-1]["messages"],  # the last task, as `usage` is its
                                              {"seed": 42, "max_tokens": entry["params"].get("max_tokens", 60)})
                bare.append((b_first, b_n / (b_total - b_first) if b_total > b_first else 0.0))
            tps = statistics.mean(t for _, t in ours)
            btps = statistics.mean(t for _, t in bare)
            rows.append((kind, statistics.mean(prompt_tokens), statistics.mean(f for f, _ in ours), tps,
                         statistics.median(totals), max(totals), repaired / checked if checked else 0.0,
                         statistics.mean(f for f, _ in bare), btps, tps / btps if btps else 0.0))
    print(f"{'kind':<6} {'prompt tok':>10} {'ttft s':>7} {'tok/s':>7} {'p50 s':>7} {'max s':>7} {'repaired':>9} "
          f"{'bare ttft':>9} {'bare tok/s':>10} {'ratio':>6}")
    for r in rows:
        print(f"{r[0]:<6} {r[1]:>10.0f} {r[2]:>7.2f} {r[3]:>7.1f} {r[4]:>7.2f} {r[5]:>7.2f} {r[6]:>8.0%} "
              f"{r[7]:>9.2f} {r[8]:>10.1f} {r[9]:>6.2f}")
    print(f"{samples} drafts per kind on a {machines}-machine demo base; tok/s = completion tokens per second after the "
          "first token; bare = llama-cpp-python create_chat_completion on the same rendered prompt, grammar and seed; "
          "repaired = model sentences repaired or dropped by the citation check.")
