"""`sdi eval drafts`: per model, do drafts carry checked history facts, how many model sentences pass, is `ask` right,
how long do drafts take — on one demo base, through the real DraftService, in one process.

    sdi eval drafts [--models smollm2,qwen2.5-coder-0.5b] [--n 30] [--machines 600] [--json]

Drafts: `why` for the n top-priority open opportunities, `brief` for the serials of the top-priority opportunities
(first n distinct). `ask`: up to n answerable and n unanswerable questions built on this base by
`eval.ask_eval.build_questions` (the labelling rule of eval/ask/README.md; questions.jsonl is that rule on 400 machines),
in its order, asked about an opportunity of the question's machine.
Latency is read from the stream: time to the first streamed sentence (the draft itself when nothing streams), to the
first model (origin llm) sentence, and to the finished draft.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from sdi.drafting.claims import dates_in
from sdi.errors import SdiError

DEMO_SEED = 42
STAMP = ".eval-drafts.json"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
NOT_ANSWERED = ("do not answer", "do not say")  # sdi/drafting/kinds/ask.py: "The records for … do not answer this question"
TARGETS = {  # name: (threshold, "min" | "max", what)
    "history_fact": (0.80, "min", "why and brief drafts with an accepted model sentence citing the service history"),
    "acceptance": (0.60, "min", "model sentences that pass the check"),
    "check_rejects_unsupported": (0.95, "min", "labelled unsupported sentences the check rejects"),
    "check_accepts_supported": (0.80, "min", "labelled supported sentences the check accepts"),
    "ask_answerable": (0.80, "min", "answerable ask questions answered right"),
    "ask_unanswerable": (0.90, "min", "unanswerable ask questions answered 'the records do not say'"),
    "brief_p50_s": (10.0, "max", "brief total time, p50"),
    "first_sentence_p95_s": (1.5, "max", "first streamed sentence of why and brief, p95"),
}


# ------------------------------------------------------------------------------------------------------ scoring


def model_sentences(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """The accepted model sentences of a finished draft (the draft holds only sentences that passed)."""
    return [s for s in draft["sentences"] if s["origin"] == "llm"]


def states_history_fact(draft: dict[str, Any]) -> bool:
    """At least one accepted model sentence cites a service-history source (an H id)."""
    return any(c.startswith("H") for s in model_sentences(draft) for c in s["citations"])


COPY_RUN, COPY_SHARE = 8, 0.6  # a quote: 8+ consecutive words, and most of the sentence, taken from its record


def _longest_common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of words that a and b share in the same order, contiguous in both."""
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


def copies_its_record(sentence: dict[str, Any], sources: dict[str, str]) -> bool:
    """An accepted model sentence on the history that quotes its record rather than saying something of it."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"\[[A-Z]\d+\]", "", sentence["text"]).lower())
    cited = re.findall(r"[a-z0-9]+", " ".join(sources.get(c, "") for c in sentence["citations"]).lower())
    run = _longest_common_run(words, cited)
    return run >= COPY_RUN and run >= COPY_SHARE * len(words)


def history_sentences(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """Accepted model sentences citing the service history."""
    return [s for s in model_sentences(draft) if any(c.startswith("H") for c in s["citations"])]


def says_not_answered(draft: dict[str, Any]) -> bool:
    """The answer says the records do not answer the question."""
    return any(p in s["text"].lower() for s in draft["sentences"] for p in NOT_ANSWERED)


def ask_right(draft: dict[str, Any], question: dict[str, Any], model_only: bool = False) -> bool:
    """Answerable: an answer sentence (the model's, or the record's own words quoted; only the model's when
    model_only) holds an expected phrase and the draft does not say the records do not answer; unanswerable: it
    says the records do not say."""
    if not question["answerable"]:
        return says_not_answered(draft)
    if says_not_answered(draft):  # its "Closest record" line may hold the phrase, but the answer is "no"
        return False
    phrases = [p.lower() for p in question["expect"]]
    quoted = [s for s in draft["sentences"] if s["origin"] != "llm" and s["section"] == "answer"]
    said = model_sentences(draft) + ([] if model_only else quoted)
    return any(_says(s["text"], p) for s in said for p in phrases)


def _says(text: str, phrase: str) -> bool:
    """The text holds the phrase; a date in any common format ("September 12, 2026" for 2026-09-12)."""
    return phrase in text.lower() or (bool(ISO_DAY.fullmatch(phrase)) and phrase in dates_in(text))


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _share(hits: int, total: int) -> dict[str, Any]:
    return {"hits": hits, "total": total, "share": hits / total if total else None}


def _latency(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95)}


def summarize(runs: list[dict[str, Any]], asked: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """One model's figures from its timed why/brief runs and its (question, run) ask pairs."""
    out: dict[str, Any] = {"kinds": {}}
    checked = passed = cut = 0
    for kind in ("why", "brief"):
        mine = [r for r in runs if r["kind"] == kind]
        checked += sum(r["draft"]["check"]["checked"] for r in mine)
        passed += sum(r["draft"]["check"]["passed"] for r in mine)
        cut += sum(r["draft"]["check"].get("cut", 0) for r in mine)
        out["kinds"][kind] = {
            "history_fact": _share(sum(states_history_fact(r["draft"]) for r in mine), len(mine)),
            "model_sentences": sum(len(model_sentences(r["draft"])) for r in mine),
            "total_s": _latency([r["total_s"] for r in mine]),
            "first_sentence_s": _latency([r["first_s"] for r in mine]),
            "first_model_sentence_s": _latency([r["first_llm_s"] for r in mine if r["first_llm_s"] is not None]),
        }
    # cut: passed as their first clause only (the rest failed); whole: passed as the model wrote them
    out["acceptance"] = {"passed": passed, "checked": checked, "rate": passed / checked if checked else None,
                         "cut": cut, "whole_rate": (passed - cut) / checked if checked else None}
    both = [r for r in runs if r["kind"] in ("why", "brief")]
    out["history_fact"] = _share(sum(states_history_fact(r["draft"]) for r in both), len(both))
    on_history = [(s, {x["id"]: x["text"] for x in r["draft"].get("sources", [])}) for r in both
                  for s in history_sentences(r["draft"])]
    out["copies"] = _share(sum(copies_its_record(s, src) for s, src in on_history), len(on_history))
    out["first_sentence_s"] = _latency([r["first_s"] for r in both])
    out["first_model_sentence_s"] = _latency([r["first_llm_s"] for r in both if r["first_llm_s"] is not None])
    for key, flag in (("ask_answerable", True), ("ask_unanswerable", False)):
        mine = [(q, r) for q, r in asked if bool(q["answerable"]) is flag]
        out[key] = _share(sum(ask_right(r["draft"], q) for q, r in mine), len(mine))
    yes = [(q, r) for q, r in asked if q["answerable"]]
    out["ask_answerable_by_model"] = _share(sum(ask_right(r["draft"], q, model_only=True) for q, r in yes), len(yes))
    return out


def meets(name: str, value: float | None) -> bool | None:
    """Target met (True), missed (False) or not measured (None)."""
    limit, way, _ = TARGETS[name]
    return None if value is None else (value >= limit if way == "min" else value <= limit)


def check_verdicts(check: dict[str, Any]) -> dict[str, bool | None]:
    """The claim check's two targets (model-independent)."""
    return {"check_rejects_unsupported": meets("check_rejects_unsupported", check["reject_recall"]),
            "check_accepts_supported": meets("check_accepts_supported", check["accept_recall"])}


def verdicts(row: dict[str, Any], check: dict[str, Any]) -> dict[str, bool | None]:
    """Each target met, missed or not measured for one model's row (no model sentence checked: acceptance missed)."""
    kinds = row["kinds"]
    return {
        "why_history_fact": meets("history_fact", kinds["why"]["history_fact"]["share"]),
        "brief_history_fact": meets("history_fact", kinds["brief"]["history_fact"]["share"]),
        "acceptance": meets("acceptance", row["acceptance"]["rate"] or 0.0),
        **check_verdicts(check),
        "ask_answerable": meets("ask_answerable", row["ask_answerable"]["share"]),
        "ask_unanswerable": meets("ask_unanswerable", row["ask_unanswerable"]["share"]),
        "brief_p50_s": meets("brief_p50_s", kinds["brief"]["total_s"]["p50"]),
        "first_sentence_p95_s": meets("first_sentence_p95_s", row["first_sentence_s"]["p95"]),
    }


# -------------------------------------------------------------------------------------------------- questions


def pick_questions(questions: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Up to n answerable and n unanswerable questions, in their order."""
    yes = [q for q in questions if q["answerable"]][:n]
    no = [q for q in questions if not q["answerable"]][:n]
    return yes + no


def resolve_opportunity(question: dict[str, Any], opportunities: list[dict[str, Any]]) -> str | None:
    """The opportunity to ask about: the one named, else the best open one of the serial named, else None."""
    named = question.get("opportunity") or question.get("opportunity_id")
    if named and any(o["id"] == named for o in opportunities):
        return named
    serial = question.get("serial")
    return next((o["id"] for o in opportunities if serial and o["serial"] == serial), None)


# ------------------------------------------------------------------------------------------------- the base


# The code a demo base is built by: generator, importer, store, detection and its rules.
BASE_CODE = ("sdi/demo", "connectors", "sdi/store", "sdi/triggers", "sdi/rules.yaml")


def code_fingerprint(root: Path, parts: Iterable[str] = BASE_CODE) -> str:
    """sha256 over the names and bytes of the source files under `parts` of root (a base built by other code differs)."""
    digest = hashlib.sha256()
    for part in parts:
        top = root / part
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.suffix in (".py", ".yaml", ".sql"))
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_base(home: Path, machines: int, seed: int = DEMO_SEED) -> None:
    """Generate, import, assess, detect and index a demo base in home (reused only when built the same way, by the
    same code: a base left by older code once gave figures today's code does not reach)."""
    from sdi.config import load_settings
    from sdi.demo.run import run_demo

    stamp = home / STAMP
    params = {"machines": machines, "seed": seed, "code": code_fingerprint(Path(__file__).resolve().parents[1])}
    if stamp.is_file() and json.loads(stamp.read_text()) == params and (home / "vector-store").is_dir():
        print(f"reusing the demo base in {home}", file=sys.stderr)
        return
    if stamp.is_file():  # built here before, by other code or parameters: start again rather than build on top of it
        print(f"rebuilding the demo base in {home} (made by other code or parameters)", file=sys.stderr)
        shutil.rmtree(home)
    settings = load_settings(home=home)
    with contextlib.redirect_stdout(sys.stderr):  # the demo's report is progress here; stdout carries the result
        run_demo(settings, machines=machines, seed=seed, as_of=None, serve=False)
    stamp.write_text(json.dumps(params))


def timed(service: Any, kind: str, **kwargs: Any) -> dict[str, Any]:
    """One streamed draft with its total time, time to the first sentence and to the first model sentence."""
    start = time.perf_counter()
    first = first_llm = None
    draft = None
    for event, data in service.stream(kind, **kwargs):
        now = time.perf_counter() - start
        if event == "sentence":
            first = now if first is None else first
            if data["origin"] == "llm" and first_llm is None:
                first_llm = now
        elif event == "draft":
            draft = data
    total = time.perf_counter() - start
    if draft is None:
        raise SdiError(f"the {kind} stream ended without a draft", "this is a bug in DraftService.stream")
    return {"kind": kind, "subject": kwargs, "total_s": total, "first_s": total if first is None else first,
            "first_llm_s": first_llm, "draft": draft}


def _brief(run: dict[str, Any]) -> dict[str, Any]:
    """What --json keeps of one run (not the whole draft)."""
    d = run["draft"]
    return {"kind": run["kind"], "subject": run["subject"], "total_s": round(run["total_s"], 3),
            "first_s": round(run["first_s"], 3),
            "first_llm_s": None if run["first_llm_s"] is None else round(run["first_llm_s"], 3),
            "model_sentences": [s["text"] for s in model_sentences(d)], "history_fact": states_history_fact(d),
            "checked": d["check"]["checked"], "passed": d["check"]["passed"], "cut": d["check"].get("cut", 0),
            "rejected": rejected(d)}


def rejected(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """The model sentences the check refused, with its reason and the text of the sources they cite (to label)."""
    texts = {s["id"]: s["text"] for s in draft["sources"]}
    out = []
    for fail in draft["check"]["failures"]:
        refs = re.findall(r"\[([TH]\d{1,2})\]", fail["text"])
        out.append({"text": fail["text"], "reason": fail["reason"], "sources": {r: texts.get(r, "") for r in refs}})
    return out


def run_model(service: Any, why_ids: list[str], serials: list[str],
              targets: list[tuple[dict[str, Any], str | None]]) -> dict[str, Any]:
    """One model's row: its why, brief and ask drafts, timed from the stream and scored."""
    runs = [timed(service, "why", opportunity_id=o) for o in why_ids]
    runs += [timed(service, "brief", serial=s) for s in serials]
    asked = [(q, timed(service, "ask", opportunity_id=opp, question=q["question"])) for q, opp in targets if opp]
    row = summarize(runs, asked)
    row["drafts"] = [_brief(r) for r in runs] + [{**_brief(r), "right": ask_right(r["draft"], q),
                                                  "answerable": bool(q["answerable"])} for q, r in asked]
    return row


def _load_backends(models: list[str]) -> dict[str, Any]:
    from sdi.config import get_settings
    from sdi.llm.registry import load_backend

    models_dir = get_settings().models_dir
    return {spec: load_backend(spec, None, models_dir) for spec in models}


def evaluate(models: list[str], n: int = 30, machines: int = 600, workdir: Path | None = None,
             questions: list[dict[str, Any]] | None = None, say: Any = None) -> dict[str, Any]:
    """All figures for the models, on one demo base built (or reused) under workdir."""
    from eval.ask_eval import build_questions
    from eval.faithfulness_eval import evaluate as check_eval
    from sdi.config import load_settings
    from sdi.drafting.service import DraftService
    from sdi.store import MachineFile
    from sdi.triggers.opportunities import list_opportunities

    say = say or (lambda msg: print(msg, file=sys.stderr, flush=True))
    if n < 1:
        raise SdiError("--n must be at least 1", "e.g. --n 30")
    if not models:
        raise SdiError("no models given", "e.g. --models smollm2,qwen2.5-coder-0.5b")
    backends = _load_backends(models)  # fails fast (not installed, bad spec) before the base is built
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sdi-eval-drafts-")))
        home = workdir / f"demo-{machines}-seed{DEMO_SEED}"  # one base per parameter set, never mixed
        build_base(home, machines)
        settings = load_settings(home=home)
        db = stack.enter_context(MachineFile(settings.db_path, settings.db_threads, settings.db_memory_limit))
        opps = list_opportunities(db)
        why_ids = [o["id"] for o in opps[:n]]
        serials = list(dict.fromkeys(o["serial"] for o in opps))[:n]
        questions = build_questions(db) if questions is None else questions
        every = list_opportunities(db, include_closed=True)
        resolved = {id(q): resolve_opportunity(q, every) for q in questions}
        chosen = pick_questions([q for q in questions if resolved[id(q)]], n)
        targets = [(q, resolved[id(q)]) for q in chosen]
        skipped = sum(1 for q in questions if not resolved[id(q)])
        retriever = None
        rows = {}
        for spec, backend in backends.items():
            service = DraftService(settings, db, backend=backend, retriever=retriever)
            service.warm_up()
            retriever = service.history.retriever()
            say(f"{spec}: {len(why_ids)} why, {len(serials)} brief, {len(targets)} ask")
            rows[spec] = run_model(service, why_ids, serials, targets)
    check = check_eval("test")["claim_check"]
    for row in rows.values():
        row["targets"] = verdicts(row, check)
    return {
        "as_of": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "arch": platform.machine(), "cores": os.cpu_count(),
                    "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()},
        "base": {"machines": machines, "seed": DEMO_SEED, "opportunities": len(opps)},
        "n": n, "why": len(why_ids), "brief": len(serials),
        "ask": {"questions": len(questions), "asked": len(targets), "skipped": skipped,
                "answerable": sum(1 for q, _ in targets if q["answerable"])},
        "check": check, "targets": {k: {"limit": v[0], "way": v[1], "what": v[2]} for k, v in TARGETS.items()},
        "models": rows,
    }


# -------------------------------------------------------------------------------------------------- rendering


def _mark(ok: bool | None) -> str:
    return "–" if ok is None else ("✓" if ok else "✗")


def _frac(share: dict[str, Any], ok: bool | None) -> str:
    if not share["total"]:
        return "n/a –"
    return f"{share['hits']}/{share['total']} {share['share']:.0%} {_mark(ok)}"


def _secs(lat: dict[str, Any]) -> str:
    return "n/a" if lat["p50"] is None else f"{lat['p50']:.1f}/{lat['p95']:.1f}"


def render(result: dict[str, Any]) -> str:
    """The one table, with the model-independent check figures and the targets beside it."""
    c, m = result["check"], result["machine"]
    check_ok = check_verdicts(c)
    head = ["model", "why+H", "brief+H", "accepted", "copies", "ask ans.", "by model", "ask unans.", "why s", "brief s", "1st sent s",
            "1st model s"]
    rows = []
    for spec, r in result["models"].items():
        t = r["targets"]
        acc = r["acceptance"]
        acc_cell = f"n/a (0 checked) {_mark(False)}" if not acc["checked"] else \
            f"{acc['passed']}/{acc['checked']} {acc['rate']:.0%} {_mark(t['acceptance'])}"
        brief_lat = r["kinds"]["brief"]["total_s"]
        rows.append([
            spec,
            _frac(r["kinds"]["why"]["history_fact"], t["why_history_fact"]),
            _frac(r["kinds"]["brief"]["history_fact"], t["brief_history_fact"]),
            acc_cell,
            _frac(r["copies"], None).removesuffix(" –"),
            _frac(r["ask_answerable"], t["ask_answerable"]),
            _frac(r["ask_answerable_by_model"], None).removesuffix(" –"),
            _frac(r["ask_unanswerable"], t["ask_unanswerable"]),
            _secs(r["kinds"]["why"]["total_s"]),
            f"{_secs(brief_lat)} {_mark(t['brief_p50_s'])}",
            f"{_secs(r['first_sentence_s'])} {_mark(t['first_sentence_p95_s'])}",
            _secs(r["first_model_sentence_s"]),
        ])
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]
    fmt = lambda cells: "  ".join(str(x).ljust(w) for x, w in zip(cells, widths)).rstrip()  # noqa: E731
    a = result["ask"]
    lines = [
        f"sdi eval drafts — as of {result['as_of']} on {m['host']} ({m['arch']}, {m['usable_cores']} usable of "
        f"{m['cores']} cores); demo base {result['base']['machines']} machines (seed {result['base']['seed']}, "
        f"{result['base']['opportunities']} open opportunities); {result['why']} why and {result['brief']} brief "
        f"drafts per model; ask: {a['answerable']} answerable and {a['asked'] - a['answerable']} unanswerable of "
        f"{a['questions']} questions built on this base ({a['skipped']} left out: no opportunity on their machine)",
        "",
        fmt(head), fmt(["-" * w for w in widths]), *[fmt(r) for r in rows],
        "",
        f"claim check on the labelled set (test split, model-independent): rejects "
        f"{c['rejected_unsupported']}/{c['unsupported']} unsupported ({c['reject_recall']:.0%}) "
        f"{_mark(check_ok['check_rejects_unsupported'])} ≥ 95 %; accepts {c['accepted_supported']}/{c['supported']} "
        f"supported ({c['accept_recall']:.0%}) {_mark(check_ok['check_accepts_supported'])} ≥ 80 %; precision of "
        f"rejects {c['reject_precision']}, of accepts {c['accept_precision']}",
        "",
        "+H = drafts with ≥ 1 accepted model sentence citing a history record [H…] (target ≥ 80 %); accepted = model "
        "sentences passed / checked over why and brief (≥ 60 %); copies = accepted history sentences that quote their "
        f"record ({COPY_RUN}+ consecutive words and ≥ {COPY_SHARE:.0%} of the sentence: no target, but a prompt must "
        "not win acceptance by quoting); ask ans. = answerable questions answered with "
        "an expected phrase, by an accepted model sentence or the record's own words quoted (≥ 80 %), by model = by "
        "an accepted model sentence; ask unans. = says the records do not answer (≥ 90 %); "
        "times are p50/p95 seconds: total why, total brief (p50 ≤ 10 s), first streamed sentence of why+brief "
        "(p95 ≤ 1.5 s), first model sentence of why+brief. ✓ met, ✗ missed, – not measured.",
    ]
    return "\n".join(lines)


def parse_models(text: str) -> list[str]:
    """Comma-separated SDI_LLM values, checked for form."""
    from sdi.llm.registry import parse

    models = [m.strip() for m in text.split(",") if m.strip()]
    for spec in models:
        parse(spec)
    return list(dict.fromkeys(models))
