from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from ml.train import split_patients, split_slabs


def _epoch_means(history, stage):
    losses: dict[int, list[float]] = {}
    for entry in history:
        if entry["stage"] == stage and "train_loss" in entry:
            losses.setdefault(entry["epoch"], []).append(entry["train_loss"])
    return [float(np.mean(losses[epoch])) for epoch in sorted(losses)]


def test_split_patients_stratified_sixty_ten_thirty():
    ids = [f"case-{i}" for i in range(100)]
    labels = [1] * 40 + [0] * 60
    assignment = split_patients(ids, labels, seed=1)
    positives = Counter(assignment[i] for i, lab in zip(ids, labels) if lab)
    negatives = Counter(assignment[i] for i, lab in zip(ids, labels) if not lab)
    assert positives == {"train": 24, "tune": 4, "test": 12}
    assert negatives == {"train": 36, "tune": 6, "test": 18}


def test_split_patients_depends_on_seed():
    ids = [f"case-{i}" for i in range(50)]
    labels = [i % 2 for i in range(50)]
    assert split_patients(ids, labels, seed=1) == split_patients(ids, labels, seed=1)
    assert split_patients(ids, labels, seed=1) != split_patients(ids, labels, seed=2)


def test_split_slabs_keeps_runs_together():
    names = split_slabs(100, slab_size=8, seed=0)
    assert names.shape == (100,)
    for start in range(0, 96, 8):
        assert len(set(names[start : start + 8])) == 1
    assert set(names) == {"train", "tune", "test"}


def test_quick_training_lowers_loss(quick_result):
    for stage in ("ct_model", "joint_model"):
        means = _epoch_means(quick_result.history, stage)
        assert len(means) == 3
        assert means[-1] < means[0], f"{stage} training loss per epoch: {means}"


def test_quick_training_checks_tuning_loss(quick_result):
    checks = [e for e in quick_result.history if e["stage"] == "ct_model" and "tune_loss" in e]
    # One check before training and one every 5 iterations or at an epoch's end.
    assert len(checks) >= 4
    assert all(np.isfinite(e["tune_loss"]) for e in checks)


def test_quick_training_identical_under_same_seed(prepared_cases, quick_result, retrain):
    again = retrain(prepared_cases)
    first_losses = [e.get("train_loss", e.get("tune_loss")) for e in quick_result.history]
    second_losses = [e.get("train_loss", e.get("tune_loss")) for e in again.history]
    assert first_losses == second_losses
    for key, value in quick_result.joint_model.state_dict().items():
        assert torch.equal(value, again.joint_model.state_dict()[key]), key


def test_train_rejects_unknown_split(prepared_cases):
    from ml.config import ModelConfig, TrainingConfig
    from ml.train import train

    with pytest.raises(ValueError, match="split must be 'patient' or 'slab'"):
        train(prepared_cases, model_config=ModelConfig(image_size=64),
              training_config=TrainingConfig(), split="random")
