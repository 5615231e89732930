"""`sdi check` (the claim check on JSON lines from stdin), `sdi eval faithfulness` (its precision and recall),
`sdi eval note-leads` (the note-lead matcher's) and `sdi eval drafts` (drafts per model against the targets)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from sdi.drafting.checker import check_sentence


def check_line(line: str, number: int) -> dict[str, Any]:
    """The verdict for one input line {"sources": {...}, "sentence": "..."}; malformed input is refused with a hint."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"ok": False, "reason": f"input line {number}: not JSON ({exc.msg})"}
    if not isinstance(item, dict):
        return {"ok": False, "reason": f"input line {number}: expected an object with sources and sentence"}
    sources, sentence = item.get("sources"), item.get("sentence")
    if not isinstance(sources, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        return {"ok": False, "reason": f'input line {number}: "sources" must map ids like "H1" to text'}
    if not isinstance(sentence, str):
        return {"ok": False, "reason": f'input line {number}: "sentence" must be a string'}
    verdict = check_sentence(sentence, sources)
    return {"ok": verdict.ok, "reason": verdict.reason}


def check_stream(lines: TextIO, out: TextIO) -> int:
    """One verdict line per non-blank input line; returns how many were checked."""
    count = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        out.write(json.dumps(check_line(line, number), ensure_ascii=False) + "\n")
        out.flush()
        count += 1
    return count


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `check`, `eval faithfulness`, `eval note-leads` and `eval drafts` to the sdi command."""
    eval_app = typer.Typer(help="Measure SDI's stages on labelled sets.", no_args_is_help=True)
    app.add_typer(eval_app, name="eval")

    @app.command("check")
    def check() -> None:
        """Check sentences against sources: JSON lines {"sources": {"H1": ...}, "sentence": "... [H1]"} on stdin."""
        check_stream(sys.stdin, sys.stdout)

    @eval_app.command("faithfulness")
    def faithfulness(
        split: Annotated[str, typer.Option(help="Which part of the labelled set: test, dev, fresh…fresh19 "
                                                "(batches b6–b19, labelled blind) or all.")] = "test",
        as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    ) -> None:
        """The claim check's precision and recall on the labelled set, next to the old word-overlap check."""
        from eval.faithfulness_eval import evaluate, render

        result = evaluate(split)
        typer.echo(json.dumps(result, indent=2) if as_json else render(result))

    @eval_app.command("note-leads")
    def note_leads(
        split: Annotated[str, typer.Option(help="Which part of the labelled set: test, dev or all.")] = "test",
        batch: Annotated[str | None, typer.Option(help="b1 (developed on) or b2 (held out); default both.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
        errors: Annotated[bool, typer.Option("--errors", help="List every false, missed and mis-kinded lead.")] = False,
    ) -> None:
        """The note-lead matcher's precision and recall on the labelled service notes."""
        from eval.note_leads_eval import evaluate, render

        result = evaluate(split, batch)
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else render(result, errors))

    @eval_app.command("drafts")
    def drafts(
        models: Annotated[str | None, typer.Option(
            help="Comma-separated SDI_LLM values (default: the configured one).")] = None,
        n: Annotated[int, typer.Option("--n", help="why drafts, brief drafts, and answerable / unanswerable ask "
                                       "questions per model.")] = 30,
        machines: Annotated[int, typer.Option(help="Machines in the demo base built for the run.")] = 600,
        workdir: Annotated[Path | None, typer.Option(help="Keep the demo base here and reuse it next time "
                                                     "(default: a temporary folder).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    ) -> None:
        """Per model: drafts with checked history facts, acceptance, ask accuracy and latency, against the targets."""
        from eval.drafts_eval import evaluate, parse_models, render
        from sdi.config import get_settings

        result = evaluate(parse_models(models or get_settings().llm), n=n, machines=machines, workdir=workdir)
        typer.echo(json.dumps(result, indent=2) if as_json else render(result))
