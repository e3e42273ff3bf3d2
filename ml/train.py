"""Train the slice scorer, the CT model, the clinical models and the joint model.

Usage::

    python -m ml.train --cases cases.json --output path/to/package [--quick]

``cases.json`` lists the CT series and, optionally, a table of clinical records::

    {"cases": [{"case_id": "P001", "dicom_dir": "dicom/P001", "label": 1,
                "clinical": {"age": 39, "sex": "M", ...},
                "slice_labels": [0, 1, ...]}],
     "clinical_table": "clinical.csv"}

Paths are relative to the JSON file. ``slice_labels`` (optional) gives one 0/1 label per
slice in the order of :func:`ml.dicom.read_series` (increasing position along the slice
normal). ``clinical_table`` (optional) is a CSV with the 12 feature columns and ``label``;
without it the clinical models use the cases' own records.

The defaults follow Mei et al., Nature Medicine 26, 1224 (2020). The CT model uses Adam with
learning rate 0.001 decayed x0.95 per epoch, 40 epochs and batch 16, with random rotation,
grid distortion and cutout. It first spends one epoch classifying random lung patches
labelled with their image's label. Cases are split 60/10/30 by patient, stratified by label,
and the checkpoint with the lowest tuning loss, checked every 100 iterations, is kept. The joint model starts from the trained CT model, uses
learning rate 0.002 and the loss BCE(joint) + BCE(CNN).
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from monai.transforms import Compose, RandCoarseDropout, RandGridDistortion, RandRotate
from numpy.typing import NDArray
from torch import nn
from tqdm import tqdm

from ml.clinical import (
    CLINICAL_FEATURES,
    ClinicalModelSelection,
    ClinicalScaler,
    encode_clinical,
    fit_clinical_models,
)
from ml.config import QUICK_TRAINING, ModelConfig, TrainingConfig
from ml.dicom import read_series
from ml.networks import JointModel, MaxPoolResNet, SliceScorerCNN
from ml.package import save_package
from ml.preprocessing import segment_volume
from ml.scoring import CNNSliceScorer, select_slices, to_model_input

__all__ = [
    "CaseRecord",
    "PreparedCase",
    "TrainingResult",
    "load_cases",
    "main",
    "prepare_case",
    "split_patients",
    "split_slabs",
    "train",
]

logger = logging.getLogger(__name__)
SPLITS = ("train", "tune", "test")


@dataclass(frozen=True)
class CaseRecord:
    """One case of a cases file."""

    case_id: str
    label: int
    dicom_dir: Path
    clinical: dict[str, object]
    slice_labels: tuple[int, ...] | None = None


@dataclass
class PreparedCase:
    """A case after preprocessing, ready for training.

    Attributes
    ----------
    case_id : str
    label : int
        Case label (1 = COVID-19).
    clinical : ndarray of float64, shape (12,)
        Encoded clinical record, NaN where missing.
    kept_indices : ndarray of int64
        Volume indices of the kept slices.
    slices : ndarray of uint8, shape (n, y, x)
        Lung-segmented kept slices.
    slice_labels : ndarray of int64 or None
        Label of each kept slice, when the case has slice-level labels.
    """

    case_id: str
    label: int
    clinical: NDArray[np.float64]
    kept_indices: NDArray[np.int64]
    slices: NDArray[np.uint8]
    slice_labels: NDArray[np.int64] | None


@dataclass
class _Examples:
    images: NDArray[np.uint8]
    labels: NDArray[np.float32]
    clinical: NDArray[np.float32]
    case_ids: list[str]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class TrainingResult:
    """Trained components and the summaries written to the manifest."""

    ct_model: MaxPoolResNet
    joint_model: JointModel
    scorer_network: SliceScorerCNN
    clinical_scaler: ClinicalScaler
    clinical_models: ClinicalModelSelection
    metrics: dict[str, Any]
    training_data: dict[str, Any]
    history: list[dict[str, Any]]


def load_cases(path: str | Path) -> tuple[list[CaseRecord], Path | None]:
    """Read a cases file; return its cases and the clinical table path, if any."""
    file = Path(path)
    document = json.loads(file.read_text(encoding="utf-8"))
    cases = []
    for number, entry in enumerate(document.get("cases", [])):
        missing = [key for key in ("case_id", "dicom_dir", "label", "clinical") if key not in entry]
        if missing:
            raise ValueError(f"{file}: case {number} lacks {missing}.")
        if entry["label"] not in (0, 1):
            raise ValueError(f"{file}: case {entry['case_id']!r} has label {entry['label']!r}; expected 0 or 1.")
        labels = entry.get("slice_labels")
        cases.append(
            CaseRecord(
                case_id=str(entry["case_id"]),
                label=int(entry["label"]),
                dicom_dir=(file.parent / entry["dicom_dir"]).resolve(),
                clinical=dict(entry["clinical"]),
                slice_labels=tuple(int(v) for v in labels) if labels is not None else None,
            )
        )
    if not cases:
        raise ValueError(f"{file} lists no cases; expected a 'cases' array.")
    table = document.get("clinical_table")
    return cases, (file.parent / table).resolve() if table else None


def read_clinical_table(path: Path) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Read a CSV of clinical records (12 feature columns and ``label``); blanks are missing."""
    rows, labels = [], []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            record: dict[str, object] = {}
            for name in CLINICAL_FEATURES:
                text = (row.get(name) or "").strip()
                if text == "":
                    record[name] = None
                elif name == "sex":
                    record[name] = text
                elif name in ("exposure", "fever", "cough", "sputum"):
                    record[name] = text.lower() in ("1", "true", "yes")
                else:
                    record[name] = float(text)
            rows.append(encode_clinical(record))
            labels.append(int(row["label"]))
    return np.array(rows), np.array(labels, dtype=np.int64)


def prepare_case(record: CaseRecord, *, max_slices: int | None = None) -> PreparedCase:
    """Read and segment a case's series and keep its lung slices (evenly thinned to ``max_slices``)."""
    series = read_series(record.dicom_dir)
    segmented = segment_volume(series.volume_hu)
    kept = segmented.kept_indices
    if kept.size == 0:
        raise ValueError(f"Case {record.case_id!r} has no slice with enough lung to train on.")
    if max_slices is not None and kept.size > max_slices:
        kept = kept[np.linspace(0, kept.size - 1, max_slices).round().astype(np.int64)]
    slice_labels = None
    if record.slice_labels is not None:
        if len(record.slice_labels) != series.volume_hu.shape[0]:
            raise ValueError(
                f"Case {record.case_id!r} has {len(record.slice_labels)} slice labels for "
                f"{series.volume_hu.shape[0]} slices."
            )
        slice_labels = np.asarray(record.slice_labels, dtype=np.int64)[kept]
    return PreparedCase(
        case_id=record.case_id,
        label=record.label,
        clinical=encode_clinical(record.clinical),
        kept_indices=kept,
        slices=segmented.lung_segmented(kept),
        slice_labels=slice_labels,
    )


def _split_counts(n: int, fractions: Sequence[float]) -> list[int]:
    counts = [math.floor(n * f) for f in fractions]
    # Hand the remainder to the splits with the largest fractional parts.
    remainders = sorted(range(3), key=lambda i: n * fractions[i] - counts[i], reverse=True)
    for i in remainders[: n - sum(counts)]:
        counts[i] += 1
    # With at least one unit per split available, no split stays empty.
    if n >= len(counts):
        for i, count in enumerate(counts):
            if count == 0:
                counts[i] = 1
                counts[int(np.argmax(counts))] -= 1
    return counts


def split_patients(
    case_ids: Sequence[str],
    labels: Sequence[int],
    *,
    fractions: Sequence[float] = (0.6, 0.1, 0.3),
    seed: int = 0,
) -> dict[str, str]:
    """Assign each case to train, tune or test, stratified by label.

    Returns
    -------
    dict of str to str
        Split name per case id.
    """
    if len(case_ids) != len(labels):
        raise ValueError(f"case_ids and labels differ in length: {len(case_ids)} and {len(labels)}.")
    rng = np.random.default_rng(seed)
    assignment: dict[str, str] = {}
    for label in sorted(set(labels)):
        members = [cid for cid, lab in zip(case_ids, labels) if lab == label]
        members = [members[i] for i in rng.permutation(len(members))]
        counts = _split_counts(len(members), fractions)
        position = 0
        for name, count in zip(SPLITS, counts):
            for cid in members[position : position + count]:
                assignment[cid] = name
            position += count
    return assignment


def split_slabs(
    n_slices: int, *, slab_size: int, fractions: Sequence[float] = (0.6, 0.1, 0.3), seed: int = 0
) -> NDArray[np.str_]:
    """Assign runs of ``slab_size`` consecutive slices to train, tune or test.

    This split is for data with too few patients for a patient-level split. Neighbouring
    slices stay together, so most direct neighbours of a held-out slice are held out too.

    Returns
    -------
    ndarray of str, shape (n_slices,)
    """
    if slab_size < 1:
        raise ValueError(f"slab_size must be at least 1, got {slab_size!r}.")
    n_slabs = math.ceil(n_slices / slab_size)
    counts = _split_counts(n_slabs, fractions)
    names = np.repeat(np.array(SPLITS), counts)
    names = names[np.random.default_rng(seed).permutation(n_slabs)]
    return np.repeat(names, slab_size)[:n_slices]


def _augmentation(config: TrainingConfig, size: int) -> Compose:
    transform = Compose(
        [
            RandRotate(range_x=math.radians(config.rotation_degrees), prob=config.augmentation_prob,
                       padding_mode="zeros"),
            RandGridDistortion(num_cells=5, distort_limit=(-0.1, 0.1), prob=config.augmentation_prob,
                               padding_mode="zeros"),
            RandCoarseDropout(holes=1, max_holes=3, spatial_size=max(size // 8, 1),
                              max_spatial_size=max(size // 4, 1), fill_value=0.0,
                              prob=config.augmentation_prob),
        ]
    )
    transform.set_random_state(seed=config.seed)
    return transform


def _augment_batch(images: torch.Tensor, transform: Compose | None) -> torch.Tensor:
    if transform is None:
        return images
    return torch.stack([torch.as_tensor(transform(image)).float() for image in images])


ModuleT = TypeVar("ModuleT", bound=nn.Module)
LossFunction = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _ct_loss(model: nn.Module, images: torch.Tensor, clinical: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(model(images).logit, labels)


def _scorer_loss(model: nn.Module, images: torch.Tensor, clinical: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(model(images), labels)


def _joint_loss(model: nn.Module, images: torch.Tensor, clinical: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    output = model(images, clinical)
    return F.binary_cross_entropy_with_logits(output.logit, labels) + F.binary_cross_entropy_with_logits(
        output.ct.logit, labels
    )


def evaluate_loss(
    model: nn.Module, loss: LossFunction, examples: _Examples, *, size: int, batch_size: int = 32
) -> float:
    """Return the mean loss of ``model`` on ``examples`` in evaluation mode."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            images = to_model_input(examples.images[start : start + batch_size], size)
            clinical = torch.from_numpy(examples.clinical[start : start + batch_size])
            labels = torch.from_numpy(examples.labels[start : start + batch_size])
            total += loss(model, images, clinical, labels).item() * len(labels)
    return total / max(len(examples), 1)


def _fit(
    model: ModuleT,
    loss: LossFunction,
    train_set: _Examples,
    tune_set: _Examples,
    *,
    stage: str,
    size: int,
    epochs: int,
    learning_rate: float,
    config: TrainingConfig,
    history: list[dict[str, Any]],
    progress: bool,
    clinical_sampler: Callable[[NDArray[np.float32]], NDArray[np.float32]] | None = None,
) -> ModuleT:
    """Train with Adam and exponential decay; keep the state with the lowest tuning loss."""
    rng = np.random.default_rng(config.seed)
    transform = _augmentation(config, size)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.learning_rate_decay)
    best_loss = evaluate_loss(model, loss, tune_set, size=size) if len(tune_set) else math.inf
    best_state = copy.deepcopy(model.state_dict())
    history.append({"stage": stage, "iteration": 0, "epoch": 0, "tune_loss": best_loss})
    iteration = 0

    def check(epoch: int) -> None:
        nonlocal best_loss, best_state
        if not len(tune_set):
            return
        tune_loss = evaluate_loss(model, loss, tune_set, size=size)
        history.append({"stage": stage, "iteration": iteration, "epoch": epoch, "tune_loss": tune_loss})
        if tune_loss < best_loss:
            best_loss, best_state = tune_loss, copy.deepcopy(model.state_dict())

    for epoch in tqdm(range(1, epochs + 1), desc=stage, disable=not progress, leave=False):
        model.train()
        order = rng.permutation(len(train_set))
        # A final batch of one would break batch norm, so it joins the previous batch.
        starts = list(range(0, len(order), config.batch_size))
        if len(starts) > 1 and len(order) - starts[-1] < 2:
            starts.pop()
        epoch_losses = []
        for position, start in enumerate(starts):
            end = starts[position + 1] if position + 1 < len(starts) else len(order)
            batch = order[start:end]
            images = _augment_batch(to_model_input(train_set.images[batch], size), transform)
            clinical = train_set.clinical[batch]
            if clinical_sampler is not None:
                clinical = clinical_sampler(train_set.labels[batch])
            labels = torch.from_numpy(train_set.labels[batch])
            value = loss(model, images, torch.from_numpy(clinical), labels)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            model.train()
            iteration += 1
            epoch_losses.append(value.item())
            history.append({"stage": stage, "iteration": iteration, "epoch": epoch, "train_loss": value.item()})
            if iteration % config.checkpoint_every == 0:
                check(epoch)
                model.train()
        scheduler.step()
        if iteration % config.checkpoint_every:
            check(epoch)
        logger.info("%s epoch %d: mean training loss %.4f", stage, epoch, float(np.mean(epoch_losses)))

    model.load_state_dict(best_state)
    return model.eval()


def _random_patches(examples: _Examples, *, size: int, patch: int, rng: np.random.Generator) -> _Examples:
    """Crop one patch per image around a random lung pixel, labelled with the image's label."""
    images = to_model_input(examples.images, size).numpy()[:, 0]
    patches = np.zeros((len(examples), patch, patch), dtype=np.uint8)
    half = patch // 2
    for i, image in enumerate(images):
        rows, columns = np.nonzero(image > 0)
        if rows.size:
            pick = rng.integers(rows.size)
            row, column = rows[pick], columns[pick]
        else:
            row, column = size // 2, size // 2
        top = int(np.clip(row - half, 0, size - patch))
        left = int(np.clip(column - half, 0, size - patch))
        patches[i] = np.rint(image[top : top + patch, left : left + patch] * 255).astype(np.uint8)
    return _Examples(patches, examples.labels, examples.clinical, examples.case_ids)


def _subset(examples: _Examples, mask: NDArray[np.bool_]) -> _Examples:
    return _Examples(
        examples.images[mask],
        examples.labels[mask],
        examples.clinical[mask],
        [cid for cid, keep in zip(examples.case_ids, mask) if keep],
    )


def _auc_summary(scores: NDArray[np.float64], truth: NDArray[np.int64]) -> dict[str, Any]:
    from readerstats.roc import auc_delong

    positives, negatives = int(truth.sum()), int((1 - truth).sum())
    summary: dict[str, Any] = {"n_positive": positives, "n_negative": negatives}
    if positives < 2 or negatives < 2:
        summary["auc"] = None
        summary["note"] = "fewer than two cases in a class; AUC not estimated"
        return summary
    estimate = auc_delong(scores, truth)
    summary.update(auc=estimate.auc, ci_lower=estimate.lower, ci_upper=estimate.upper,
                   method="DeLong, 95% Wald interval")
    return summary


def _predict_slices(model: nn.Module, examples: _Examples, *, size: int, joint: bool) -> NDArray[np.float64]:
    model.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(examples), 32):
            images = to_model_input(examples.images[start : start + 32], size)
            if joint:
                clinical = torch.from_numpy(examples.clinical[start : start + 32])
                outputs.append(torch.sigmoid(model(images, clinical).logit))
            else:
                outputs.append(torch.sigmoid(model(images).logit))
    return torch.cat(outputs).double().numpy() if outputs else np.zeros(0)


def train(
    cases: Sequence[PreparedCase],
    *,
    model_config: ModelConfig,
    training_config: TrainingConfig,
    split: str = "patient",
    slab_size: int = 8,
    clinical_table: tuple[NDArray[np.float64], NDArray[np.int64]] | None = None,
    clinical_resample: bool = False,
    progress: bool = True,
) -> TrainingResult:
    """Train every component on prepared cases.

    Parameters
    ----------
    cases : sequence of PreparedCase
        Output of :func:`prepare_case`.
    model_config, training_config :
        Configuration of the networks and of the recipe.
    split : {"patient", "slab"}
        "patient" splits cases 60/10/30 stratified by label. "slab" splits every case's
        kept slices in runs of ``slab_size``, for data with too few patients.
    slab_size : int
        Slices per run in "slab" mode.
    clinical_table : tuple of (ndarray, ndarray), optional
        Encoded clinical records and labels for the clinical model; default: the cases'.
    clinical_resample : bool
        Pair every joint-model training image with a random clinical-table record of the
        same label, for data whose CTs and clinical records come from different people.
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    TrainingResult
    """
    if split not in ("patient", "slab"):
        raise ValueError(f"split must be 'patient' or 'slab', got {split!r}.")
    if clinical_resample and clinical_table is None:
        raise ValueError("clinical_resample needs clinical_table; pass the table or drop the option.")
    torch.manual_seed(training_config.seed)
    rng = np.random.default_rng(training_config.seed)
    history: list[dict[str, Any]] = []
    size = model_config.image_size

    # Clinical preprocessing and models.
    if clinical_table is None:
        table_x = np.stack([case.clinical for case in cases])
        table_y = np.array([case.label for case in cases], dtype=np.int64)
    else:
        table_x, table_y = clinical_table
    row_ids = [str(i) for i in range(len(table_y))]
    row_split = split_patients(row_ids, table_y.tolist(), fractions=training_config.split,
                               seed=training_config.seed)
    row_names = np.array([row_split[r] for r in row_ids])
    scaler = ClinicalScaler().fit(table_x[row_names == "train"])
    scaled_table = scaler.transform(table_x)
    clinical_models = fit_clinical_models(
        scaled_table[row_names == "train"], table_y[row_names == "train"],
        scaled_table[row_names == "tune"], table_y[row_names == "tune"],
        seed=training_config.seed,
    )
    test_rows = row_names == "test"
    clinical_test = _auc_summary(
        clinical_models.predict_proba(scaled_table[test_rows]), table_y[test_rows]
    )

    # Split units and build slice examples.
    names_per_case: list[NDArray[np.str_]] = []
    if split == "patient":
        assignment = split_patients([c.case_id for c in cases], [c.label for c in cases],
                                    fractions=training_config.split, seed=training_config.seed)
        names_per_case = [np.full(len(c.kept_indices), assignment[c.case_id]) for c in cases]
    else:
        names_per_case = [
            split_slabs(len(c.kept_indices), slab_size=slab_size, fractions=training_config.split,
                        seed=training_config.seed + number)
            for number, c in enumerate(cases)
        ]
    images = np.concatenate([
        to_model_input(c.slices, size).mul(255).round().byte().numpy()[:, 0] for c in cases
    ])
    labels = np.concatenate([
        c.slice_labels if c.slice_labels is not None else np.full(len(c.kept_indices), c.label)
        for c in cases
    ]).astype(np.float32)
    clinical = np.concatenate([
        np.repeat(scaler.transform(c.clinical), len(c.kept_indices), axis=0) for c in cases
    ])
    case_ids = [c.case_id for c in cases for _ in c.kept_indices]
    unit = np.concatenate(names_per_case)
    examples = _Examples(images, labels, clinical, case_ids)
    subsets = {name: _subset(examples, unit == name) for name in SPLITS}

    # Slice scorer.
    scorer_size = model_config.scorer_image_size
    scorer_network = _fit(
        SliceScorerCNN(), _scorer_loss, subsets["train"], subsets["tune"], stage="slice_scorer",
        size=scorer_size, epochs=training_config.scorer_epochs,
        learning_rate=training_config.learning_rate, config=training_config, history=history,
        progress=progress,
    )

    # In patient mode without slice labels, the CT model trains on each case's selected slices.
    if split == "patient" and all(c.slice_labels is None for c in cases):
        scorer = CNNSliceScorer(scorer_network, image_size=scorer_size)
        keep = np.zeros(len(examples), dtype=bool)
        offset = 0
        for c in cases:
            chosen = select_slices(scorer.score(c.slices), np.arange(len(c.kept_indices)),
                                   model_config.slices_per_case)
            keep[offset + chosen] = True
            offset += len(c.kept_indices)
        subsets = {name: _subset(examples, (unit == name) & keep) for name in SPLITS}

    # Weakly supervised patch pretraining, then the CT model.
    ct_model = MaxPoolResNet()
    patch = max(32, round(size * training_config.patch_fraction / 32) * 32)
    patches_train = _random_patches(subsets["train"], size=size, patch=patch, rng=rng)
    patches_tune = _random_patches(subsets["tune"], size=size, patch=patch, rng=rng)
    ct_model = _fit(
        ct_model, _ct_loss, patches_train, patches_tune, stage="patch_pretraining", size=patch,
        epochs=training_config.pretrain_epochs, learning_rate=training_config.learning_rate,
        config=training_config, history=history, progress=progress,
    )
    ct_model = _fit(
        ct_model, _ct_loss, subsets["train"], subsets["tune"], stage="ct_model", size=size,
        epochs=training_config.epochs, learning_rate=training_config.learning_rate,
        config=training_config, history=history, progress=progress,
    )

    # Joint model, with its CNN initialised from the trained CT model.
    joint_model = JointModel(model_config.n_clinical, hidden=model_config.joint_hidden,
                             blocks=model_config.joint_blocks, noise_std=model_config.joint_noise_std)
    joint_model.cnn.load_state_dict(ct_model.state_dict())
    sampler = None
    if clinical_resample:
        train_rows = row_names == "train"
        by_label = {label: scaled_table[train_rows & (table_y == label)] for label in (0, 1)}

        def sampler(batch_labels: NDArray[np.float32]) -> NDArray[np.float32]:
            return np.stack([by_label[int(v)][rng.integers(len(by_label[int(v)]))] for v in batch_labels])

    joint_model = _fit(
        joint_model, _joint_loss, subsets["train"], subsets["tune"], stage="joint_model", size=size,
        epochs=training_config.epochs, learning_rate=training_config.joint_learning_rate,
        config=training_config, history=history, progress=progress, clinical_sampler=sampler,
    )

    # Held-out evaluation.
    test = subsets["test"]
    truth = test.labels.astype(np.int64)
    metrics: dict[str, Any] = {
        "clinical_model_test": clinical_test,
        "clinical_tuning_auc": clinical_models.tuning_auc,
        "ct_model_test_slices": _auc_summary(_predict_slices(ct_model, test, size=size, joint=False), truth),
        "joint_model_test_slices": _auc_summary(_predict_slices(joint_model, test, size=size, joint=True), truth),
        "scorer_test_slices": _auc_summary(
            CNNSliceScorer(scorer_network, image_size=scorer_size).score(test.images), truth
        ),
    }
    training_data = {
        "cases": [
            {"case_id": c.case_id, "label": c.label, "kept_slices": len(c.kept_indices),
             "slice_labels": c.slice_labels is not None}
            for c in cases
        ],
        "split": split,
        "slab_size": slab_size if split == "slab" else None,
        "slices_per_split": {name: len(subsets[name]) for name in SPLITS},
        "positive_slices_per_split": {name: int(subsets[name].labels.sum()) for name in SPLITS},
        "clinical_records": len(table_y),
        "clinical_records_per_split": {name: int((row_names == name).sum()) for name in SPLITS},
        "clinical_resample": clinical_resample,
        "training_config": training_config.to_dict(),
    }
    return TrainingResult(ct_model, joint_model, scorer_network, scaler, clinical_models,
                          metrics, training_data, history)


def _format_auc(summary: dict[str, Any]) -> str:
    if summary.get("auc") is None:
        return f"not estimated ({summary.get('note')})"
    return (f"{summary['auc']:.3f} (95% CI {summary['ci_lower']:.3f}–{summary['ci_upper']:.3f}; "
            f"{summary['n_positive']} positive, {summary['n_negative']} negative)")


def render_model_card(result: TrainingResult, *, notes: str = "") -> str:
    """Write the model card in markdown from the training summaries and extra notes."""
    metrics, data = result.metrics, result.training_data
    lines = [
        "# Model card: COVID-19 from chest CT and clinical data",
        "",
        "**Not for clinical use.** This model is a research demonstration.",
        "",
        "## Models",
        "- Slice scorer: a small CNN that scores lung slices for abnormality; the 10 highest",
        "  scoring slices represent a case.",
        "- CT model (P1): ResNet-18 (MONAI, one channel) with a 1 x 1 convolution to a map of",
        "  region logits and a global max pool; the case score is the mean of the 10 slice",
        "  probabilities.",
        f"- Clinical model (P2): {result.clinical_models.selected}, chosen by tuning-set AUC",
        "  among an SVM, a random forest and an MLP (3 x 64). Tuning AUC: "
        + ", ".join(f"{k} {v:.3f}" for k, v in result.clinical_models.tuning_auc.items()) + ".",
        "- Joint model (P3): the CT model's 512-d average-pooled feature and the 12 clinical",
        "  features through three blocks of batch norm, linear (64) and ReLU; trained with",
        "  BCE(joint) + BCE(CNN) from the trained CT model.",
        "- Missing clinical values are replaced by the training median before min-max scaling.",
        "",
        "## Training data",
        (
            f"- Split: {data['split']}; slices per split {data['slices_per_split']}, positive "
            f"slices {data['positive_slices_per_split']}."
        ),
        (
            f"- Clinical records: {data['clinical_records']} (per split "
            f"{data['clinical_records_per_split']})."
        ),
        "",
        "## Held-out performance",
        f"- CT model, per slice: AUC {_format_auc(metrics['ct_model_test_slices'])}",
        f"- Joint model, per slice: AUC {_format_auc(metrics['joint_model_test_slices'])}",
        f"- Slice scorer, per slice: AUC {_format_auc(metrics['scorer_test_slices'])}",
        f"- Clinical model, per record: AUC {_format_auc(metrics['clinical_model_test'])}",
        "",
        "AUC intervals are DeLong 95% Wald intervals.",
        "",
    ]
    if notes:
        lines += [notes.strip(), ""]
    return "\n".join(lines)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml.train", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", required=True, type=Path, help="cases JSON file")
    parser.add_argument("--output", required=True, type=Path, help="package folder to write")
    parser.add_argument("--quick", action="store_true",
                        help="tiny profile for tests: 64 px images, 2 epochs, 24 slices per case")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random generator")
    parser.add_argument("--epochs", type=int, help="epochs of CT and joint training (default 40)")
    parser.add_argument("--scorer-epochs", type=int, help="epochs of slice-scorer training")
    parser.add_argument("--batch-size", type=int, help="images per step (default 16)")
    parser.add_argument("--checkpoint-every", type=int, help="iterations between tuning-loss checks")
    parser.add_argument("--image-size", type=int, help="model input side in pixels (default 512)")
    parser.add_argument("--max-slices-per-case", type=int, help="thin each case to this many kept slices")
    parser.add_argument("--split", choices=("patient", "slab"), default="patient",
                        help="split cases (patient) or runs of slices within cases (slab)")
    parser.add_argument("--slab-size", type=int, default=8, help="slices per run with --split slab")
    parser.add_argument("--clinical-resample", action="store_true",
                        help="pair joint-model images with random clinical-table records of the same label")
    parser.add_argument("--card-notes", type=Path, help="markdown file appended to the model card")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)

    training_config = QUICK_TRAINING if args.quick else TrainingConfig()
    overrides = {
        "epochs": args.epochs, "scorer_epochs": args.scorer_epochs, "batch_size": args.batch_size,
        "checkpoint_every": args.checkpoint_every, "max_slices_per_case": args.max_slices_per_case,
    }
    training_config = replace(training_config, seed=args.seed,
                              **{k: v for k, v in overrides.items() if v is not None})
    image_size = args.image_size or (64 if args.quick else 512)
    model_config = ModelConfig(image_size=image_size, scorer_image_size=min(128, image_size))

    started = time.perf_counter()
    records, table_path = load_cases(args.cases)
    cases = [prepare_case(r, max_slices=training_config.max_slices_per_case) for r in records]
    table = read_clinical_table(table_path) if table_path else None
    result = train(cases, model_config=model_config, training_config=training_config,
                   split=args.split, slab_size=args.slab_size, clinical_table=table,
                   clinical_resample=args.clinical_resample, progress=not args.no_progress)
    notes = args.card_notes.read_text(encoding="utf-8") if args.card_notes else ""
    result.metrics["training_seconds"] = round(time.perf_counter() - started, 1)
    save_package(args.output, config=model_config, ct_model=result.ct_model,
                 joint_model=result.joint_model, scorer_network=result.scorer_network,
                 clinical_scaler=result.clinical_scaler, clinical_models=result.clinical_models,
                 training_data=result.training_data, metrics=result.metrics,
                 model_card=render_model_card(result, notes=notes))
    with open(args.output / "training_log.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(entry) + "\n" for entry in result.history)
    logger.info("Wrote the package to %s in %.0f s", args.output, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
