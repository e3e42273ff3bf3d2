"""Predict one case: CT model (P1), clinical model (P2) and joint model (P3)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import NDArray

from ml.clinical import encode_clinical
from ml.heatmap import ct_heatmap, joint_gradcam
from ml.package import ModelPackage
from ml.preprocessing import SegmentedVolume, segment_volume
from ml.scoring import select_slices, to_model_input

__all__ = ["CasePrediction", "NoLungSliceError", "predict_case"]


class NoLungSliceError(ValueError):
    """No slice of the volume shows enough lung to be scored."""


@dataclass
class CasePrediction:
    """Outputs of :func:`predict_case` for one case.

    Attributes
    ----------
    p1, p2, p3 : float
        P(COVID-19) from the CT model, the clinical model and the joint model.
    selected_slices : list of int
        Volume indices of the slices that represent the case, most abnormal first.
    slice_scores : dict of int to float
        Abnormality score of every kept slice (the slice scorer's output).
    slice_probabilities : dict of int to float
        CT-model probability of each selected slice; ``p1`` is their mean.
    heatmaps : dict of int to ndarray of float32, shape (y, x)
        CT-model region probability per selected slice, 0 outside the lung.
    joint_heatmaps : dict of int to ndarray of float32, shape (y, x)
        Grad-CAM of the joint model per selected slice, when requested.
    windowed_slices : dict of int to ndarray of uint8, shape (y, x)
        Lung-window image of each selected slice, for overlays.
    timings : dict of str to float
        Seconds spent in each stage.
    """

    p1: float
    p2: float
    p3: float
    selected_slices: list[int]
    slice_scores: dict[int, float]
    slice_probabilities: dict[int, float]
    heatmaps: dict[int, NDArray[np.float32]]
    joint_heatmaps: dict[int, NDArray[np.float32]] = field(default_factory=dict)
    windowed_slices: dict[int, NDArray[np.uint8]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _validate_volume(volume_hu: np.ndarray, spacing: tuple[float, float, float]) -> None:
    if not isinstance(volume_hu, np.ndarray) or volume_hu.ndim != 3:
        shape = getattr(volume_hu, "shape", None)
        raise ValueError(f"volume_hu must be a numpy array of shape (z, y, x), got shape {shape}.")
    if not np.issubdtype(volume_hu.dtype, np.number):
        raise ValueError(f"volume_hu must hold HU numbers, got dtype {volume_hu.dtype}.")
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in map(float, spacing)):
        raise ValueError(f"spacing must be three positive millimetre values (z, y, x), got {spacing!r}.")


def predict_case(
    volume_hu: np.ndarray,
    spacing: tuple[float, float, float],
    clinical: Mapping[str, object],
    package: ModelPackage,
    *,
    gradcam: bool = False,
) -> CasePrediction:
    """Run slice selection and the three models on one CT volume and clinical record.

    Parameters
    ----------
    volume_hu : ndarray, shape (z, y, x)
        CT in Hounsfield units.
    spacing : tuple of float
        Voxel size (z, y, x) in millimetres; checked for validity only.
    clinical : mapping
        The 12 clinical values (see :func:`ml.clinical.encode_clinical`); any may be None.
    package : ModelPackage
        Loaded with :func:`ml.load_package`.
    gradcam : bool
        Also compute Grad-CAM of the joint model for the selected slices.

    Returns
    -------
    CasePrediction

    Raises
    ------
    NoLungSliceError
        If no slice has a lung area of at least 20% of its body area.

    Notes
    -----
    The preprocessing rules count pixels (64-pixel components, 10-pixel dilation) at the
    512 x 512 resolution of the training scans; volumes of another in-plane size are
    processed as they are.
    """
    _validate_volume(volume_hu, spacing)
    encoded = encode_clinical(clinical)
    config = package.config
    timings: dict[str, float] = {}

    start = time.perf_counter()
    segmented: SegmentedVolume = segment_volume(volume_hu)
    timings["preprocessing"] = time.perf_counter() - start
    kept = segmented.kept_indices
    if kept.size == 0:
        raise NoLungSliceError(
            f"No slice of the {volume_hu.shape[0]}-slice volume has a lung area of at least "
            "20% of its body area; expected a chest CT."
        )

    start = time.perf_counter()
    scores = package.scorer.score(segmented.lung_segmented(kept))
    selected = select_slices(scores, kept, config.slices_per_case)
    timings["slice_selection"] = time.perf_counter() - start

    start = time.perf_counter()
    images = to_model_input(segmented.lung_segmented(selected), config.image_size)
    with torch.inference_mode():
        ct = package.ct_model(images)
    slice_probabilities = torch.sigmoid(ct.logit).double().numpy()
    heatmaps = {
        int(index): ct_heatmap(ct.logit_map[i], segmented.lung[index])
        for i, index in enumerate(selected)
    }
    timings["ct_model"] = time.perf_counter() - start

    start = time.perf_counter()
    scaled = package.clinical_scaler.transform(encoded)
    p2 = float(package.clinical_models.predict_proba(scaled)[0])
    timings["clinical_model"] = time.perf_counter() - start

    start = time.perf_counter()
    clinical_tensor = torch.from_numpy(scaled).expand(len(selected), -1)
    with torch.inference_mode():
        joint = package.joint_model(images, clinical_tensor)
    p3 = float(torch.sigmoid(joint.logit).mean())
    timings["joint_model"] = time.perf_counter() - start

    joint_heatmaps: dict[int, NDArray[np.float32]] = {}
    if gradcam:
        start = time.perf_counter()
        maps = joint_gradcam(
            package.joint_model, images, torch.from_numpy(scaled), segmented.lung[selected]
        )
        joint_heatmaps = {int(index): maps[i] for i, index in enumerate(selected)}
        timings["gradcam"] = time.perf_counter() - start

    return CasePrediction(
        p1=float(slice_probabilities.mean()),
        p2=p2,
        p3=p3,
        selected_slices=[int(i) for i in selected],
        slice_scores={int(i): float(s) for i, s in zip(kept, scores)},
        slice_probabilities={int(i): float(p) for i, p in zip(selected, slice_probabilities)},
        heatmaps=heatmaps,
        joint_heatmaps=joint_heatmaps,
        windowed_slices={int(i): segmented.windowed[i].copy() for i in selected},
        timings=timings,
    )
