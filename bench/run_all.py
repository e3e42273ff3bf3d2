"""Run every benchmark script and write their markdown sections to docs/benchmarks.md.

Each ``bench/bench_*.py`` prints one markdown section with its machine, command and
numbers. A script that fails leaves a section reporting the failure and its exit
status, so a partial run is not mistaken for a full one.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "benchmarks.md"


def main() -> int:
    scripts = sorted((REPO / "bench").glob("bench_*.py"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    sections = []
    failures = 0
    for script in scripts:
        print(f"running {script.name} …", flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env, capture_output=True, text=True)
        if result.returncode == 0:
            sections.append(result.stdout.strip())
        else:
            failures += 1
            tail = "\n".join(result.stderr.strip().splitlines()[-15:])
            sections.append(f"## {script.stem}\n\nFailed with exit status {result.returncode}:\n\n```\n{tail}\n```")
            print(f"{script.name} failed with exit status {result.returncode}", file=sys.stderr)

    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` (`python bench/run_all.py`) on {today}. Each section names its "
        "machine and command; rerun on your own machine before quoting a number.\n"
    )
    OUTPUT.write_text(header + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {OUTPUT.relative_to(REPO)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
