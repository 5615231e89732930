"""The ask question set: questions a rep asks about one machine, labelled by rule (eval/ask/README.md).

Builds eval/ask/questions.jsonl from the demo base (400 machines, seed 42) and measures retrieval on it: the share of
answerable questions whose answering record is in the top 3 for `retrieve_for_question` and for today's plain
`retrieve([question])`. `retrieval_hits` is reusable (e.g. by `sdi eval drafts` for ask accuracy).

    python -m eval.ask_eval [--write] [--work DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from eval import retrieval_eval

QUESTIONS_FILE = Path(__file__).resolve().parent / "ask" / "questions.jsonl"
K = 3
# The demo's request remarks (sdi/demo/text.py REMARKS and follow-ups) -> the fact a correct answer names.
REQUESTS = {
    "quote for new axis drive": "axis drive", "offer for maintenance contract": "maintenance contract",
    "spare nozzles": "spare nozzles", "wants faster response": "faster response", "retrofit of control is possible":
    "retrofit", "operator training": "operator training", "price of wear parts kit": "wear parts kit",
    "extended warranty": "extended warranty", "checked before audit": "audit", "trade-in for": "trade-in",
    "quote to follow": "quote", "customer requested": "requested",
}
RECOMMEND = re.compile(r"recommend ([a-z0-9 /.-]+?)(?:[,.;]|\s-\s|$)")
UNANSWERABLE = (
    "What is the customer's budget for next year?", "How much did the last repair cost?",
    "What price did we offer for the maintenance contract?", "Who is the customer's purchasing manager?",
    "Does the customer plan to open a new plant?", "Did the customer ask about financing?",
    "Is the customer happy with our sales rep?", "How many machines does the customer plan to buy?",
)


def _norm(text: str) -> str:
    return re.sub(r"\bcust\b\.?", "customer", text.lower())


def _q(qid: str, serial: str, intent: str, question: str, answers: list[str], expect: list[str]) -> dict[str, Any]:
    return {"id": qid, "serial": serial, "intent": intent, "question": question, "answerable": bool(answers),
            "record_id": answers[0] if answers else None, "answers": answers, "expect": expect}


def build_questions(db: Any, seed: int = 5, per_intent: int = 10) -> list[dict[str, Any]]:
    """Questions over the demo base in db, labelled by the rules in eval/ask/README.md; deterministic."""
    from sdi.demo.text import COMPONENTS

    rng = random.Random(seed)
    by_serial: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for rid, serial, day, text, parts in db.sql("SELECT record_id, serial, CAST(date AS VARCHAR), text, "
                                                "coalesce(parts, '') FROM service_records ORDER BY serial, date DESC, "
                                                "record_id DESC"):
        by_serial[serial].append((rid, day, text or "", parts))
    serials = sorted(s for s, recs in by_serial.items() if len(recs) >= 4)
    rng.shuffle(serials)
    out: list[dict[str, Any]] = []
    counts: dict[str, int] = defaultdict(int)

    def add(intent: str, serial: str, question: str, answers: list[str], expect: list[str]) -> None:
        counts[intent] += 1
        out.append(_q(f"{intent}-{counts[intent]:02d}", serial, intent, question, answers, expect))

    request_qs = ("What did the customer ask for?", "Did the customer request anything?", "cust asked for what?",
                  "Was hat der Kunde angefragt?")
    recommend_qs = ("What did the technician recommend?", "Any recommendation from service?",
                    "Was hat der Techniker empfohlen?")
    last_qs = ("When was the last service visit?", "When was the machine last serviced?", "Wann war der letzte Besuch?")
    for serial in serials:
        recs = by_serial[serial]
        asked = [(rid, fact) for rid, _, text, _ in recs for key, fact in REQUESTS.items() if key in _norm(text)]
        if asked and counts["request"] < per_intent:
            add("request", serial, request_qs[counts["request"] % len(request_qs)], [r for r, _ in asked],
                sorted({f for _, f in asked}))
        recommended = [(rid, m.group(1).strip()) for rid, _, text, _ in recs for m in RECOMMEND.finditer(text.lower())]
        if recommended and counts["recommendation"] < per_intent:
            add("recommendation", serial, recommend_qs[counts["recommendation"] % len(recommend_qs)],
                [r for r, _ in recommended], sorted({" ".join(f.split()[:3]) for _, f in recommended}))
        if counts["last_visit"] < per_intent and serial in serials[:60:3]:
            latest = recs[0][1]
            add("last_visit", serial, last_qs[counts["last_visit"] % len(last_qs)],
                [rid for rid, day, _, _ in recs if day == latest], [latest])
        codes = sorted({c for _, _, text, _ in recs for c in re.findall(r"\bE-\d{3}\b", text)})
        if codes and counts["code"] < per_intent and serial in serials[1::2]:
            code = codes[0]
            add("code", serial, f"Any history of {code} on this machine?",
                [rid for rid, _, text, _ in recs if re.search(rf"\b{code}\b", text)], [code])
        used = sorted({p for *_, parts in recs for p in parts.split(";") if p})
        if used and counts["component"] < per_intent and serial in serials[2::2]:
            pn = used[0]
            name = next(n.split("|")[0] for p, _, n, _ in COMPONENTS.values() if p == pn)
            add("component", serial, f"Was the {name} ever replaced?",
                [rid for rid, *_, parts in recs if pn in parts.split(";")], [pn, name])
    for i, serial in enumerate(serials[-len(UNANSWERABLE) * 2:]):
        text = " ".join(_norm(t) for _, _, t, _ in by_serial[serial])
        question = UNANSWERABLE[i % len(UNANSWERABLE)]
        if "financing" in question and "financ" in text:
            continue
        add("unanswerable", serial, question, [], [])
    return out


def retrieval_hits(retrieve: Callable[[dict[str, Any]], list[Any]], questions: list[dict[str, Any]],
                   k: int = K) -> dict[str, Any]:
    """Share of answerable questions whose answering record is among the first k records `retrieve(q)` returns."""
    per_intent: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for q in questions:
        if not q["answerable"]:
            continue
        records: list[str] = []
        for src in retrieve(q):
            rid = src.record_id.split(":", 1)[-1]
            if rid not in records:
                records.append(rid)
        hit = bool(set(records[:k]) & set(q["answers"]))
        per_intent[q["intent"]].append(hit)
        if not hit:
            misses.append(q["id"])
    every = [h for hs in per_intent.values() for h in hs]
    return {"n": len(every), "hits": sum(every), "share": sum(every) / len(every) if every else 0.0,
            "by_intent": {i: {"n": len(h), "share": sum(h) / len(h)} for i, h in sorted(per_intent.items())},
            "misses": misses}


def load_questions(path: Path = QUESTIONS_FILE) -> list[dict[str, Any]]:
    """The stored question set."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(work: Path, write: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """Build (or load) the questions on the demo base and score both retrieval paths."""
    from retrieval.catalog import Filters
    from retrieval.retriever import Retriever

    machines, seed = 400, 42
    with retrieval_eval.demo_base(work, machines, seed, say) as db:
        questions = build_questions(db)
        if write:
            QUESTIONS_FILE.parent.mkdir(parents=True, exist_ok=True)
            QUESTIONS_FILE.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions))
            say(f"wrote {len(questions)} questions to {QUESTIONS_FILE}")
        elif QUESTIONS_FILE.is_file() and load_questions() != questions:
            say(f"note: {QUESTIONS_FILE.name} differs from the questions built today (run with --write)")
        retriever = Retriever(retrieval_eval._index(db, work / f"demo-{machines}-{seed}-index", say))
    plain = retrieval_hits(lambda q: retriever.retrieve([q["question"]], Filters(serial=q["serial"]), K), questions)
    aware = retrieval_hits(lambda q: retriever.retrieve_for_question(q["question"], Filters(serial=q["serial"]), K),
                           questions)
    return {"questions": len(questions), "answerable": plain["n"], "plain": plain, "question_aware": aware}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"Rewrite {QUESTIONS_FILE.name}.")
    parser.add_argument("--work", type=Path, help="Keep the demo base and index here (reused when present).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sdi-ask-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        res = run(work, args.write, lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"{res['questions']} questions, {res['answerable']} answerable; answering record in the top {K}:")
    print(f"{'intent':<16}{'n':>4}{'retrieve([q])':>15}{'for_question':>14}")
    for intent, r in res["plain"]["by_intent"].items():
        print(f"{intent:<16}{r['n']:>4}{r['share']:>15.2f}{res['question_aware']['by_intent'][intent]['share']:>14.2f}")
    print(f"{'all':<16}{res['answerable']:>4}{res['plain']['share']:>15.2f}{res['question_aware']['share']:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
