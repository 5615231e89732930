"""Progress lines on stderr for long steps, with elapsed seconds."""

from __future__ import annotations

import sys
import time


class Progress:
    """Callable that prints `[  12.3s] message` to stderr."""

    def __init__(self, quiet: bool = False) -> None:
        self.start = time.perf_counter()
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:7.1f}s] {message}", file=sys.stderr, flush=True)
