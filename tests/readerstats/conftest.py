"""Shared loaders for the readerstats test resources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

RESOURCES = Path(__file__).parent / "resources"


@pytest.fixture(scope="session")
def asah() -> pd.DataFrame:
    """pROC's aSAH data with ``poor`` = 1 for a poor outcome (pROC's positive level)."""
    frame = pd.read_csv(RESOURCES / "asah.csv")
    frame["poor"] = (frame["outcome"] == "Poor").astype(int)
    return frame


@pytest.fixture(scope="session")
def vandyke() -> tuple[np.ndarray, np.ndarray]:
    """Van Dyke ratings as an array (modality, reader, case) and the truth per case."""
    frame = pd.read_csv(RESOURCES / "vandyke_long.csv").sort_values(["modality", "reader", "case"])
    truth = frame[(frame["modality"] == 0) & (frame["reader"] == 0)]["truth"].to_numpy()
    ratings = frame["rating"].to_numpy().reshape(2, 5, truth.size)
    return ratings, truth


@pytest.fixture(scope="session")
def proc_reference() -> dict[str, float | str]:
    """R/pROC reference values keyed by name (see resources/README.md)."""
    values: dict[str, float | str] = {}
    for line in (RESOURCES / "proc_reference.csv").read_text().splitlines():
        key, _, value = line.partition(",")
        try:
            values[key] = float(value)
        except ValueError:
            values[key] = value
    return values


@pytest.fixture(scope="session")
def proc_data() -> pd.DataFrame:
    """The synthetic reads that scripts/proc_reference.R generated and scored."""
    return pd.read_csv(RESOURCES / "proc_reference_data.csv")
