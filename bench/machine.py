"""Helpers shared by the benchmark scripts: the machine description and best-of timing."""
from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable


def cpu_model() -> str:
    """Return the CPU model name from ``lscpu``, or the platform's processor string."""
    model = platform.processor() or platform.machine() or "unknown CPU"
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return model
    for line in output.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return model


def visible_cpus() -> int:
    """Return the number of CPUs this process may run on (its affinity, not the host's count)."""
    return len(os.sched_getaffinity(0))


DEFAULT_REPEATS = 5


def best_of(function: Callable[[], object], repeats: int = DEFAULT_REPEATS) -> float:
    """Return the shortest wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
