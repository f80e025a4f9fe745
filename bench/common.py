"""Timing helpers shared by the benchmarks.

Every benchmark reports medians and 95th percentiles over many runs, and a
ratio against a baseline measured in the same process (so a slower or busier
machine moves both numbers together).  Results go into ``bench/RESULTS.md``
between ``<!-- NAME:start -->`` / ``<!-- NAME:end -->`` markers, one section per
benchmark, with the command that produced them.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass
class Timing:
    """Wall-clock times of repeated calls, in milliseconds."""

    samples: list[float]

    @property
    def median(self) -> float:
        return float(statistics.median(self.samples))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.samples, 95))

    @property
    def n(self) -> int:
        return len(self.samples)


def time_calls(fn: Callable, args: Iterable[tuple], warmup: int = 2) -> tuple[Timing, list]:
    """Call ``fn(*a)`` for every ``a`` in ``args`` (after ``warmup`` untimed calls with the first)."""
    args = list(args)
    for _ in range(warmup):
        fn(*args[0])
    samples, outputs = [], []
    for a in args:
        t0 = time.perf_counter()
        out = fn(*a)
        samples.append((time.perf_counter() - t0) * 1000.0)
        outputs.append(out)
    return Timing(samples), outputs


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    header = "# Benchmark results\n\nEach section is rewritten by the benchmark named in it.\n"
    old = path.read_text() if path.exists() else header
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    new = pattern.sub(lambda _m: block, old) if pattern.search(old) else old.rstrip() + "\n\n" + block + "\n"
    path.write_text(new if new.endswith("\n") else new + "\n")
