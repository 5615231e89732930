"""The demo base plants failures with precursors (a warning 2-3 times, its failure days later) and lone warnings, so a
calibration can learn which codes precede which failures; checked from the written events.csv, not from internals."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from sdi.demo import generator as demo
from sdi.demo.text import MODELS

AS_OF = demo.DEFAULT_AS_OF
EVENT_FORMAT = "%m/%d/%Y %I:%M:%S %p"
PAIRS = {"E-640": "E-658", "E-422": "E-448"}
FAMILY_PRECURSOR = {"punch": "E-640", "brake": "E-422"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], dict, dict[str, str]]:
    """events.csv rows, the precursor manifest and serial -> family of a 400-machine base."""
    out = tmp_path_factory.mktemp("precursors")
    summary = demo.generate(out, machines=400, seed=5)
    with (out / "events.csv").open(encoding="utf-8", newline="") as fh:
        events = list(csv.DictReader(fh))
    with (out / "machines.csv").open(encoding="utf-8-sig", newline="") as fh:
        family = {spec.name: spec.family for spec in MODELS}
        machines = {m["SerialNo"]: family[m["Model"]] for m in csv.DictReader(fh, delimiter=";")}
    assert summary["events.csv"] == len(events)
    return events, summary["planted"]["precursors"], machines


def _days(events: list[dict[str, str]], serial: str, code: str) -> list[date]:
    """Days of the serial's events with the code, in time order."""
    return sorted(datetime.strptime(e["timestamp"], EVENT_FORMAT).date()
                  for e in events if e["serial"] == serial and e["code"] == code)


def _between(days: list[date], lo: date, hi: date) -> list[date]:
    return [d for d in days if lo <= d <= hi]


def test_manifest_is_sorted_and_serialisable(base: tuple[list[dict[str, str]], dict, dict[str, str]]) -> None:
    _, planted, _ = base
    assert planted["pairs"] == PAIRS
    assert json.loads(json.dumps(planted)) == planted
    episodes, noise = planted["episodes"], planted["noise"]
    assert episodes == sorted(episodes, key=lambda e: (e["serial"], e["failure_day"]))
    assert noise == sorted(noise, key=lambda e: (e["serial"], e["day"]))
    assert len(episodes) >= 20 and len(noise) >= 5, (len(episodes), len(noise))
    assert not {e["serial"] for e in episodes} & {n["serial"] for n in noise}


def test_every_episode_is_in_the_events(base: tuple[list[dict[str, str]], dict, dict[str, str]]) -> None:
    events, planted, machines = base
    for ep in planted["episodes"]:
        serial, pre, fail = ep["serial"], ep["precursor"], ep["failure"]
        assert PAIRS[pre] == fail and FAMILY_PRECURSOR[machines[serial]] == pre, ep
        days = [date.fromisoformat(d) for d in ep["precursor_days"]]
        failure = date.fromisoformat(ep["failure_day"])
        assert 2 <= len(days) <= 3 and len(set(days)) == len(days) and (days[-1] - days[0]).days <= 4, ep
        assert 3 <= (failure - days[-1]).days <= 10, ep
        assert (AS_OF - failure).days >= 45, ep
        # A clean episode: exactly these warnings in the 5 days before the first up to the failure, and the failure
        # is the first of its code after the last warning.
        assert _between(_days(events, serial, pre), days[0] - timedelta(days=5), failure) == days, ep
        assert [d for d in _days(events, serial, fail) if d > days[-1]][:1] == [failure], ep


def test_noise_is_a_lone_warning(base: tuple[list[dict[str, str]], dict, dict[str, str]]) -> None:
    events, planted, machines = base
    for lone in planted["noise"]:
        serial, code = lone["serial"], lone["code"]
        day = date.fromisoformat(lone["day"])
        assert FAMILY_PRECURSOR[machines[serial]] == code, lone
        assert (AS_OF - day).days >= 45, lone
        assert _between(_days(events, serial, code), day - timedelta(days=5), day + timedelta(days=5)) == [day], lone
        assert not _between(_days(events, serial, PAIRS[code]), day, day + timedelta(days=14)), lone


def test_planted_events_come_last_with_new_ids(base: tuple[list[dict[str, str]], dict, dict[str, str]]) -> None:
    events, planted, _ = base
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids) and ids == [f"EV-{k:07d}" for k in range(1, len(ids) + 1)]
    expected = Counter((n["serial"], n["code"], n["day"]) for n in planted["noise"])
    for ep in planted["episodes"]:
        expected.update((ep["serial"], ep["precursor"], d) for d in ep["precursor_days"])
        expected[(ep["serial"], ep["failure"], ep["failure_day"])] += 1
    total = sum(expected.values())
    tail = events[-total:]
    stamps = [datetime.strptime(e["timestamp"], EVENT_FORMAT) for e in tail]
    assert Counter((e["serial"], e["code"], t.date().isoformat()) for e, t in zip(tail, stamps)) == expected
    assert stamps == sorted(stamps) and all(7 <= t.hour < 17 for t in stamps)
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [AP]M", e["timestamp"]) for e in tail)
    head = [datetime.strptime(e["timestamp"], EVENT_FORMAT) for e in events[:-total]]
    assert head == sorted(head)  # the generated history before them, untouched and in time order
