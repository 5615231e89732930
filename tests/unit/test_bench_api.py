"""The API benchmark's own arithmetic: what counts as busy, as an error, and the server's CPU."""

from __future__ import annotations

import os

from sdi.bench.api import PhaseResult, Sample, process_cpu, verdict


def test_only_requests_started_while_the_model_was_busy_count_towards_the_target() -> None:
    phase = PhaseResult("mixed", busy=[(0.0, False), (1.0, True), (2.0, False)])
    phase.samples = [Sample("list", 200, 0.5, 0.500), Sample("detail", 200, 1.2, 0.020), Sample("list", 200, 1.5, 0.030),
                     Sample("why", 429, 1.6, 0.001), Sample("detail", 500, 1.7, 0.010), Sample("list", 200, 2.5, 0.900)]
    lines = verdict(phase)
    assert "errors other than 429: 1" in lines[0] and "MISSED" in lines[0]
    assert "30.0 ms over 2 requests" in lines[1] and lines[1].endswith("OK")


def test_process_cpu_reads_a_live_process_and_grows_with_work() -> None:
    before = process_cpu(os.getpid())
    sum(i * i for i in range(2_000_000))
    after = process_cpu(os.getpid())
    assert before is not None and after is not None and after > before
    assert process_cpu(2**22 + 12345) is None
