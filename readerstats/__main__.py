"""Command line: ``python -m readerstats analyse READS.csv --out DIR``.

Writes results.json (the full result tree, described in
docs/readerstats-json-schema.md) and flat CSV tables into DIR. Invalid input
exits with status 2 and a message naming the line, column and value.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from readerstats.analysis import analyse_reads
from readerstats.errors import ReaderStatsError
from readerstats.reads import load_reads
from readerstats.tables import write_tables

EXIT_INVALID_INPUT = 2


def _parse_thresholds(values: Sequence[str]) -> dict[str, float]:
    thresholds: dict[str, float] = {}
    for value in values:
        rater, separator, number = value.rpartition("=")
        key = rater if separator else "*"
        try:
            thresholds[key] = float(number)
        except ValueError:
            raise ReaderStatsError(
                f"--threshold {value!r} is invalid: use a number (all continuous raters) or "
                "RATER=NUMBER (one rater), for example --threshold ai=0.42."
            ) from None
    return thresholds


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the readerstats command."""
    parser = argparse.ArgumentParser(
        prog="python -m readerstats", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    analyse = commands.add_parser(
        "analyse",
        help="analyse a CSV of reads",
        description=(
            "Analyse a CSV of reads. Wide layout: columns case, truth and one score column per "
            "rater. Long layout: columns reader, case, truth, score and optionally modality."
        ),
    )
    analyse.add_argument("reads", type=Path, help="CSV file of reads (wide or long layout)")
    analyse.add_argument(
        "--out", type=Path, required=True, help="output directory, created if missing"
    )
    analyse.add_argument(
        "--reference",
        help="rater (wide) or reader (long) that every other rater is compared with, e.g. the AI model",
    )
    analyse.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="[RATER=]VALUE",
        help=(
            "cut-off for continuous scores (positive when score >= VALUE); repeat with RATER=VALUE "
            "per rater. Default: each rater's Youden-optimal cut-off"
        ),
    )
    analyse.add_argument(
        "--subgroup",
        action="append",
        default=[],
        metavar="COLUMN",
        help="0/1 per-case column defining a subgroup of interest; repeatable",
    )
    analyse.add_argument(
        "--feature",
        action="append",
        default=[],
        metavar="COLUMN",
        help="numeric per-case column for the characteristics table; repeatable",
    )
    analyse.add_argument(
        "--alpha", type=float, default=0.05, help="significance level (default 0.05)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = build_parser().parse_args(argv)
    try:
        thresholds = _parse_thresholds(arguments.threshold)
        reads = load_reads(arguments.reads, case_columns=[*arguments.subgroup, *arguments.feature])
        results = analyse_reads(
            reads,
            reference=arguments.reference,
            thresholds=thresholds,
            subgroups=arguments.subgroup,
            features=arguments.feature,
            alpha=arguments.alpha,
        )
    except ReaderStatsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT

    arguments.out.mkdir(parents=True, exist_ok=True)
    with open(arguments.out / "results.json", "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2, allow_nan=False)
    written = write_tables(results, arguments.out)
    print(f"Wrote results.json and {len(written)} CSV tables to {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
