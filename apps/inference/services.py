"""Registering model versions, queueing predictions, and reading a case for the model.

Predictions are queued on commit, so a worker never looks for a row that the sending
transaction has not stored yet. Sending is idempotent: a case that already has a queued,
running or finished prediction by a version gets no second task.
"""
from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pydicom
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from matplotlib import colormaps
from numpy.typing import NDArray
from PIL import Image

from apps.cases.models import Case, ClinicalRecord
from apps.imaging.models import Instance, Series
from apps.inference import conf
from apps.inference.models import ModelVersion, Prediction

logger = logging.getLogger(__name__)

# File names of ml.package, repeated so that web processes need not import torch with it.
MANIFEST_NAME = "manifest.json"
MODEL_CARD_NAME = "MODEL_CARD.md"

# Colour map of the heat maps, the same as in the model's own overlay images. In "jet", red
# marks the regions that the CT model finds most likely positive.
HEATMAP_COLORMAP = "jet"


class RegistrationError(Exception):
    """A model package cannot be registered; the message names the file and the fix."""


# --- model versions ----------------------------------------------------------------------


def manifest_sha256(package_path: str | Path) -> str:
    """Return the SHA-256 of a package's manifest, which lists the checksum of every file."""
    folder = Path(package_path)
    if folder.name == MANIFEST_NAME:
        folder = folder.parent
    return hashlib.sha256((folder / MANIFEST_NAME).read_bytes()).hexdigest()


def register_model_version(
    path: str | Path, *, name: str = "", version: str = "", activate: bool = False
) -> tuple[ModelVersion, bool]:
    """Verify a model package and store it as a model version.

    Loading the package checks every file against the SHA-256 in its manifest and the
    weights against the configuration, so a version that registers also loads in a worker.
    A package whose manifest is already registered returns the existing version.

    Returns
    -------
    tuple of (ModelVersion, bool)
        The version and whether it was created now.

    Raises
    ------
    RegistrationError
        If the package is missing, fails its checksums or does not load.
    """
    from ml.package import PackageError, load_package

    folder = Path(path).resolve()
    if folder.name == MANIFEST_NAME:
        folder = folder.parent
    try:
        package = load_package(folder)
    except PackageError as error:
        raise RegistrationError(str(error)) from error

    digest = manifest_sha256(folder)
    card_path = folder / MODEL_CARD_NAME
    model_card = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    name = name or "covid19-ct-clinical"
    version = version or digest[:12]

    with transaction.atomic():
        existing = ModelVersion.objects.filter(manifest_sha256=digest).first()
        if existing is not None:
            created = False
            model_version = existing
        else:
            if ModelVersion.objects.filter(name=name, version=version).exists():
                raise RegistrationError(
                    f"Model {name} version {version} is already registered with another manifest; "
                    "give this package another version label (register_model --model-version)."
                )
            model_version = ModelVersion.objects.create(
                name=name,
                version=version,
                package_path=str(folder),
                manifest_sha256=digest,
                manifest=package.manifest,
                model_card=model_card,
            )
            created = True
        if activate:
            activate_model_version(model_version)
    logger.info("model version %s registered from %s (new: %s)", model_version, folder, created)
    return model_version, created


@transaction.atomic
def activate_model_version(model_version: ModelVersion) -> None:
    """Make one version the active one; the constraint allows no second active version."""
    ModelVersion.objects.select_for_update().filter(is_active=True).exclude(pk=model_version.pk).update(
        is_active=False
    )
    if not model_version.is_active:
        model_version.is_active = True
        model_version.save(update_fields=["is_active"])


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).first()


# --- queueing ------------------------------------------------------------------------------


def queue_predictions_for_cases(
    case_ids: Iterable[int], *, model_version: ModelVersion | None = None, rerun_failed: bool = False
) -> list[int]:
    """Create the predictions of the cases by a version and send their tasks on commit.

    Call it inside the transaction that stores the cases: the tasks leave only after that
    transaction commits. Without ``model_version`` the active version is used, and with no
    active version nothing is queued.

    A case whose prediction is queued, running or done gets no second task. A failed one is
    queued again only with ``rerun_failed``. A prediction queued for longer than a task may
    run is sent again, because a broker may have lost its message. The task's own check
    keeps such a duplicate from predicting twice.

    Returns
    -------
    list of int
        Primary keys of the predictions whose tasks will be sent.
    """
    case_ids = sorted(set(case_ids))
    model_version = model_version or active_model_version()
    if model_version is None:
        logger.info("no active model version; no prediction queued for %d case(s)", len(case_ids))
        return []

    lost_before = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS)
    to_send: list[int] = []
    with transaction.atomic():
        for case_id in case_ids:
            prediction = _get_or_create_prediction(case_id, model_version)
            if prediction is None:
                continue
            created, prediction = prediction
            if created:
                to_send.append(prediction.pk)
            elif prediction.status == Prediction.Status.FAILED and rerun_failed:
                _reset(prediction)
                to_send.append(prediction.pk)
            elif prediction.status == Prediction.Status.QUEUED and (
                prediction.queued_at < lost_before or prediction.error
            ):
                # Sending failed before, or the broker may have lost the message.
                to_send.append(prediction.pk)
        transaction.on_commit(lambda: send_prediction_tasks(to_send))
    logger.info("queued %d prediction(s) by model version %s", len(to_send), model_version)
    return to_send


def _get_or_create_prediction(case_id: int, model_version: ModelVersion) -> tuple[bool, Prediction] | None:
    if not Case.objects.filter(pk=case_id).exists():
        logger.warning("case %s no longer exists; no prediction queued", case_id)
        return None
    try:
        # A savepoint, so that a concurrent insert of the same pair leaves the outer transaction usable.
        with transaction.atomic():
            prediction, created = Prediction.objects.select_for_update().get_or_create(
                case_id=case_id, model_version=model_version
            )
    except IntegrityError:
        prediction, created = Prediction.objects.select_for_update().get(
            case_id=case_id, model_version=model_version
        ), False
    return created, prediction


def _reset(prediction: Prediction) -> None:
    prediction.status = Prediction.Status.QUEUED
    prediction.error = ""
    prediction.attempts = 0
    prediction.queued_at = timezone.now()
    prediction.started_at = None
    prediction.finished_at = None
    prediction.save(update_fields=["status", "error", "attempts", "queued_at", "started_at", "finished_at"])


def send_prediction_tasks(prediction_ids: Iterable[int]) -> None:
    """Send one task per prediction to the inference queue.

    A prediction whose task cannot be sent stays queued with the broker's error on the row,
    and the next run of its model version sends it again.
    """
    from apps.inference.tasks import run_prediction

    queue = conf.task_queue()
    options = {"queue": queue} if queue else {}
    for prediction_id in prediction_ids:
        try:
            result = run_prediction.apply_async((prediction_id,), **options)
        except Exception as error:  # noqa: BLE001 - each kombu transport raises its own errors
            logger.error("prediction %s: sending its task failed: %s", prediction_id, error)
            Prediction.objects.filter(pk=prediction_id).update(
                error=f"Sending the task to the broker failed ({error}). Check the broker, then run "
                "the model version again."
            )
            continue
        Prediction.objects.filter(pk=prediction_id).update(task_id=result.id or "", error="")


def mark_stale_predictions_failed() -> int:
    """Mark failed every prediction still running past the hard time limit; return how many.

    The hard limit kills the task's process, and a killed process cannot record its own
    end, so these rows would otherwise stay running for ever. Pages that show prediction
    status call this before they read it.
    """
    cutoff = timezone.now() - timedelta(seconds=conf.STALE_AFTER_SECONDS)
    stale = Prediction.objects.filter(status=Prediction.Status.RUNNING, started_at__lt=cutoff)
    count = stale.update(
        status=Prediction.Status.FAILED,
        finished_at=timezone.now(),
        error=(
            f"The prediction was still running {conf.STALE_AFTER_SECONDS} s after it started, past "
            f"the hard time limit of {conf.HARD_TIME_LIMIT} s, so its worker was lost. Run the "
            "model version again to retry."
        ),
    )
    if count:
        logger.warning("marked %d prediction(s) failed after they outlived the hard time limit", count)
    return count


# --- reading a case ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseVolume:
    """A stored series in Hounsfield units, slice ``i`` being the instance with index ``i``."""

    volume_hu: NDArray[np.float32]
    spacing: tuple[float, float, float]
    sop_instance_uids: list[str]


def load_case_volume(case: Case) -> CaseVolume:
    """Read the de-identified slices of a case into a volume in HU, ordered by instance index.

    The index counts upwards along the slice normal, the order that the model expects.

    Raises
    ------
    ValueError
        If the case has no stored series, or its slices differ in size.
    """
    series = Series.objects.filter(case=case).first()
    if series is None:
        raise ValueError(f"Case {case.public_id} has no stored CT series; import its DICOM first.")
    instances = list(Instance.objects.filter(series=series).order_by("index"))
    if not instances:
        raise ValueError(f"Case {case.public_id} has a series without slices; import it again.")

    slices = []
    for instance in instances:
        with instance.file.open("rb") as handle:
            dataset = pydicom.dcmread(handle)
        slope = float(getattr(dataset, "RescaleSlope", 1.0))
        intercept = float(getattr(dataset, "RescaleIntercept", 0.0))
        slices.append(dataset.pixel_array.astype(np.float32) * slope + intercept)
    shapes = sorted({item.shape for item in slices})
    if len(shapes) != 1:
        raise ValueError(f"Case {case.public_id} mixes slice sizes {shapes}; expected one size.")

    return CaseVolume(
        volume_hu=np.stack(slices),
        spacing=(series.slice_spacing, series.pixel_spacing_row, series.pixel_spacing_column),
        sop_instance_uids=[instance.sop_instance_uid for instance in instances],
    )


def clinical_features(case: Case) -> dict[str, object]:
    """Return the case's twelve clinical values, all None when it has no clinical record."""
    record = ClinicalRecord.objects.filter(case=case).first()
    if record is None:
        return {name: None for name in ClinicalRecord.FEATURES}
    return record.as_features()


# --- heat maps -----------------------------------------------------------------------------


def save_heatmaps(prediction: Prediction, heatmaps: dict[int, NDArray[np.float32]]) -> str:
    """Store the heat maps of the selected slices as one compressed .npz; return its name.

    Each array is the CT model's region probability of one slice, keyed ``slice_<index>``.
    """
    arrays = {f"slice_{index}": np.asarray(values, dtype=np.float32) for index, values in heatmaps.items()}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types only allow_pickle
    name = f"heatmaps/{prediction.case.public_id}/model-{prediction.model_version_id}.npz"
    if default_storage.exists(name):
        # A retried attempt replaces the maps of the one it took over.
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def load_heatmap(prediction: Prediction, instance_index: int) -> NDArray[np.float32] | None:
    """Return the heat map of one selected slice, or None when that slice has none."""
    if not prediction.heatmap_file or instance_index not in prediction.selected_slices:
        return None
    with prediction.heatmap_file.open("rb") as handle:
        content = handle.read()
    key = f"slice_{instance_index}"
    with np.load(io.BytesIO(content)) as archive:
        return archive[key].copy() if key in archive.files else None


def heatmap_png(heatmap: NDArray[np.floating]) -> bytes:
    """Encode a heat map as an RGBA PNG: the colour map inside the lung, transparent outside.

    The values outside the lung are 0, so the alpha channel follows the lung mask and the
    browser sets the overall opacity.
    """
    values = np.clip(np.asarray(heatmap, dtype=np.float32), 0.0, 1.0)
    rgba = (colormaps[HEATMAP_COLORMAP](values) * 255).round().astype(np.uint8)
    rgba[..., 3] = np.where(values > 0, 255, 0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def colorbar_stops(count: int = 11) -> list[str]:
    """Return CSS colours of the heat-map colour map from 0 to 1, for a colour bar."""
    colours = colormaps[HEATMAP_COLORMAP](np.linspace(0.0, 1.0, count))
    return [
        "#{:02x}{:02x}{:02x}".format(*(round(float(channel) * 255) for channel in colour[:3]))
        for colour in colours
    ]
