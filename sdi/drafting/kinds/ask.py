"""ask: a grounded answer to a follow-up question, continuing the user's own conversation."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterator

from retrieval.questions import QuestionPlan, plan_question
from sdi.drafting.asking import covers, focus, latest_only, quote, task_question
from sdi.drafting.kinds.common import Kit, NotFound, add_facts, find_opportunity, open_book
from sdi.drafting.prompts import load_prompt
from sdi.drafting.record import load_turns, save_turn
from sdi.drafting.run import DraftRun
from sdi.drafting.tasks import record_values
from sdi.drafting.types import Draft, Sentence, Source
from sdi.errors import SdiError

MAX_RECORDS = 3


def _question(question: str) -> str:
    question = (question or "").strip()
    if not question:
        raise SdiError("the question is empty", "ask something about the opportunity, e.g. 'what was repaired last?'")
    if len(question) > 500:
        raise SdiError("the question is longer than 500 characters", "ask a shorter question")
    return question


def _earlier_turns(kit: Kit, conversation_id: str | None, opportunity_id: str, user: str | None) -> list[dict[str, Any]]:
    if not conversation_id:
        return []
    owner, turns = load_turns(kit.db.child(), conversation_id)
    if owner is None:
        raise NotFound(f"no conversation {conversation_id}", "start a new one by leaving conversation_id out")
    if turns and turns[0].get("user") != user:  # another person's questions stay theirs
        raise NotFound(f"no conversation {conversation_id}", "start a new one by leaving conversation_id out")
    if owner != opportunity_id:
        raise SdiError(f"conversation {conversation_id} belongs to another opportunity", "start a new conversation")
    return turns


def _values(src: Source, plan: QuestionPlan) -> dict[str, str]:
    """Prompt values for one record: its date and kind, and the part of its note that can answer the question."""
    values = record_values(src)
    return {**values, "record": focus(values["record"], plan)}


def _quote(records: list[Source], plan: QuestionPlan) -> tuple[str, str] | None:
    """The first record's own words that answer the question, as a cited sentence, and the record's tag."""
    for src in records:
        values = record_values(src)
        said = quote(values["record"], values["when"], plan)
        if said:
            return f"{said} [{src.id}].", src.id
    return None


def compose(kit: Kit, run: DraftRun, opportunity_id: str, question: str,
            conversation_id: str | None = None) -> Iterator[Sentence | Draft]:
    """The answer taken from the best record that has one, or a plain statement that the records do not say."""
    question = _question(question)
    opp = find_opportunity(kit, opportunity_id)
    turns = _earlier_turns(kit, conversation_id, opp["id"], run.user)
    book = open_book(kit, run, opp.get("customer_id"))
    t_opp, _ = add_facts(book, opp)
    kit.history.add_for_question(book, opp, question, k=MAX_RECORDS)
    earlier = "".join(f"\nEarlier question: {t['question']}\nEarlier answer: {t['answer']}" for t in turns[-2:])
    prompt = load_prompt("answer")
    run.begin({"opportunity_id": opp["id"], "serial": opp["serial"], "question": question,
               "conversation_id": conversation_id}, prompt)
    plan = plan_question(question)
    asked = {"question": book.redactor.redact(task_question(plan).replace("[", "(").replace("]", ")")),
             "history": earlier}
    records = [s for s in book.items if s.id.startswith("H")]
    # Only a record that names what the question is about (its code, part, other subject words) goes to the model.
    covering = [s for s in records if covers(s.text, plan)][:1 if latest_only(plan) else None]
    if not covering:  # recorded all the same, so a reviewer sees what would have been asked
        first = next(iter(records), None)
        values = _values(first, plan) if first else {"when": "-", "record": "(no service record matches)"}
        run.task(prompt, {**values, **asked}, first.id if first else t_opp, "answer", send=False)
    if covering:  # the model takes a while: the record it reads comes first, so a streamed answer starts at once
        best = covering[0]
        yield run.add(f"The service record that matches the question: {record_values(best)['when']} [{best.id}].",
                      [best.id], "context")
    answered = None
    for src in covering:
        answer = run.task(prompt, {**_values(src, plan), **asked}, src.id, "answer")
        if answer is not None:
            answered = src
            yield answer
            break
    # The record's own words follow the model's sentence (a small model may answer beside the point: "the filter is
    # dirty" for "was the filter ever replaced?"), or stand alone when no model sentence passed.
    quoted = _quote([answered] if answered else covering, plan)
    if quoted is not None:
        if answered is None:
            run.notes.append("answered in the record's own words: no model sentence passed the citation check")
        yield run.add(quoted[0], [quoted[1]], "answer")
    elif answered is None:
        run.notes.append("the records do not answer this question" if not covering or not run.check.checked else
                         "no model sentence passed the citation check")
        yield run.add(f"The records for machine {opp['serial']} do not answer this question [{t_opp}].", [t_opp], "answer")
        closest = next(iter(records), None)
        if closest:
            yield run.add(f"Closest record: {closest.text} [{closest.id}].", [closest.id], "answer")
    draft = run.finish()
    answer_text = " ".join(s.text for s in draft.sentences if s.section != "context")  # as recorded: contacts withheld
    cid = save_turn(kit.db.child(), conversation_id, opp["id"],
                    {"question": question, "answer": answer_text, "audit_id": draft.audit_id,
                     "at": date.today().isoformat(), "user": run.user})
    draft.subject["conversation_id"] = cid
    yield run.reveal(draft)
