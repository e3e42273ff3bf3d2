"""Model package: weights, manifest and model card in one folder.

Layout::

    manifest.json       checksums, configuration, training-data summary, metrics
    MODEL_CARD.md       what the model is for, what it was trained on, how well it did
    ct_model.pt         CT model (P1) state dict, float16
    joint_model.pt      joint model (P3) state dict, float16
    slice_scorer.pt     slice-selection CNN state dict, float16
    clinical_model.pkl  fitted scikit-learn clinical models (P2)

Loading verifies the SHA-256 of every listed file before it reads any of them, because the
clinical models are pickled and unpickling runs code. Weights are stored as float16 to halve
the package size and are cast to float32 on loading.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from ml.clinical import ClinicalModelSelection, ClinicalScaler
from ml.config import ModelConfig
from ml.networks import JointModel, MaxPoolResNet, SliceScorerCNN
from ml.scoring import CNNSliceScorer, SliceScorer

__all__ = [
    "MANIFEST_NAME",
    "ModelPackage",
    "PackageConfigurationError",
    "PackageError",
    "PackageIntegrityError",
    "load_package",
    "replace_model_card",
    "save_package",
    "sha256_of",
]

MANIFEST_NAME = "manifest.json"
MODEL_CARD_NAME = "MODEL_CARD.md"
FORMAT_VERSION = 1
_WEIGHT_FILES = {
    "ct_model": "ct_model.pt",
    "joint_model": "joint_model.pt",
    "slice_scorer": "slice_scorer.pt",
}
_CLINICAL_FILE = "clinical_model.pkl"


class PackageError(ValueError):
    """A model package cannot be loaded."""


class PackageIntegrityError(PackageError):
    """A package file is missing or its SHA-256 differs from the manifest."""


class PackageConfigurationError(PackageError):
    """The manifest's configuration does not match the stored weights."""


@dataclass
class ModelPackage:
    """A loaded model package, ready for :func:`ml.predict_case`.

    Attributes
    ----------
    path : Path
        Folder the package was loaded from.
    config : ModelConfig
        Model configuration.
    ct_model : MaxPoolResNet
        CT model (P1), in evaluation mode.
    joint_model : JointModel
        Joint model (P3), in evaluation mode.
    scorer : SliceScorer
        Slice-selection scorer; replace it to plug in another.
    clinical_scaler : ClinicalScaler
        Imputation and scaling of the clinical features.
    clinical_models : ClinicalModelSelection
        Clinical models (P2) and the selected one.
    manifest : dict
        The parsed manifest.
    """

    path: Path
    config: ModelConfig
    ct_model: MaxPoolResNet
    joint_model: JointModel
    scorer: SliceScorer
    clinical_scaler: ClinicalScaler
    clinical_models: ClinicalModelSelection
    manifest: dict[str, Any] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _half_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {
        key: value.half() if value.is_floating_point() else value
        for key, value in module.state_dict().items()
    }


def save_package(
    directory: str | Path,
    *,
    config: ModelConfig,
    ct_model: MaxPoolResNet,
    joint_model: JointModel,
    scorer_network: SliceScorerCNN,
    clinical_scaler: ClinicalScaler,
    clinical_models: ClinicalModelSelection,
    training_data: dict[str, Any],
    metrics: dict[str, Any],
    model_card: str,
) -> Path:
    """Write a model package to ``directory`` (created if needed) and return the manifest path.

    Parameters
    ----------
    directory : str or Path
        Output folder; existing package files in it are overwritten.
    config : ModelConfig
        Configuration the networks were built with.
    ct_model, joint_model, scorer_network : nn.Module
        Trained networks.
    clinical_scaler, clinical_models :
        Fitted clinical preprocessing and models.
    training_data, metrics : dict
        JSON-ready summaries for the manifest.
    model_card : str
        Markdown text of the model card.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    modules = {"ct_model": ct_model, "joint_model": joint_model, "slice_scorer": scorer_network}
    for key, name in _WEIGHT_FILES.items():
        torch.save(_half_state(modules[key]), folder / name)
    with open(folder / _CLINICAL_FILE, "wb") as handle:
        pickle.dump(clinical_models, handle, protocol=pickle.HIGHEST_PROTOCOL)
    (folder / MODEL_CARD_NAME).write_text(model_card, encoding="utf-8")

    names = [*_WEIGHT_FILES.values(), _CLINICAL_FILE, MODEL_CARD_NAME]
    manifest = {
        "format_version": FORMAT_VERSION,
        "files": {name: sha256_of(folder / name) for name in names},
        "config": config.to_dict(),
        "clinical": {
            "scaler": clinical_scaler.to_dict(),
            "selected": clinical_models.selected,
            "tuning_auc": clinical_models.tuning_auc,
            "hyperparameters": clinical_models.hyperparameters,
            "missing_values": "replaced by the training median before min-max scaling",
        },
        "training_data": training_data,
        "metrics": metrics,
    }
    manifest_path = folder / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest_path


def replace_model_card(directory: str | Path, text: str) -> None:
    """Rewrite a package's model card and update its checksum in the manifest."""
    folder = Path(directory)
    manifest_path = folder / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    (folder / MODEL_CARD_NAME).write_text(text, encoding="utf-8")
    manifest["files"][MODEL_CARD_NAME] = sha256_of(folder / MODEL_CARD_NAME)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _verify_files(folder: Path, files: dict[str, str]) -> None:
    required = [*_WEIGHT_FILES.values(), _CLINICAL_FILE]
    unlisted = [name for name in required if name not in files]
    if unlisted:
        raise PackageIntegrityError(
            f"{folder / MANIFEST_NAME} lists no checksum for {unlisted}; rebuild the package."
        )
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise PackageIntegrityError(f"{path} is listed in the manifest but missing.")
        actual = sha256_of(path)
        if actual != expected:
            raise PackageIntegrityError(
                f"{path} has SHA-256 {actual}, but the manifest expects {expected}; "
                "the file was changed or corrupted. Restore it or rebuild the package."
            )


ModuleT = TypeVar("ModuleT", bound=nn.Module)


def _load_weights(module: ModuleT, path: Path, config: ModelConfig) -> ModuleT:
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {key: value.float() if value.is_floating_point() else value for key, value in state.items()}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise PackageConfigurationError(
            f"{path} does not match the manifest configuration {config.to_dict()}: {error}"
        ) from error
    return module.eval()


def load_package(path: str | Path) -> ModelPackage:
    """Load and verify a model package.

    Parameters
    ----------
    path : str or Path
        Package folder or its ``manifest.json``.

    Returns
    -------
    ModelPackage

    Raises
    ------
    PackageIntegrityError
        If a file is missing or its SHA-256 differs from the manifest.
    PackageConfigurationError
        If the configuration is invalid or does not fit the stored weights.
    """
    folder = Path(path)
    if folder.name == MANIFEST_NAME:
        folder = folder.parent
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        raise PackageIntegrityError(f"{manifest_path} not found; expected a model package folder.")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise PackageConfigurationError(
            f"{manifest_path} has format_version {manifest.get('format_version')!r}; "
            f"this code reads version {FORMAT_VERSION}."
        )
    _verify_files(folder, manifest.get("files", {}))

    try:
        config = ModelConfig.from_dict(manifest["config"])
        scaler = ClinicalScaler.from_dict(manifest["clinical"]["scaler"])
    except (KeyError, TypeError, ValueError) as error:
        raise PackageConfigurationError(f"{manifest_path} has an invalid configuration: {error}") from error
    if config.n_clinical != len(scaler.median):
        raise PackageConfigurationError(
            f"{manifest_path} sets n_clinical={config.n_clinical}, but the scaler has "
            f"{len(scaler.median)} features."
        )

    ct_model = _load_weights(MaxPoolResNet(), folder / _WEIGHT_FILES["ct_model"], config)
    joint_model = _load_weights(
        JointModel(
            config.n_clinical,
            hidden=config.joint_hidden,
            blocks=config.joint_blocks,
            noise_std=config.joint_noise_std,
        ),
        folder / _WEIGHT_FILES["joint_model"],
        config,
    )
    scorer_network = _load_weights(SliceScorerCNN(), folder / _WEIGHT_FILES["slice_scorer"], config)
    with open(folder / _CLINICAL_FILE, "rb") as handle:
        clinical_models = pickle.load(handle)
    if clinical_models.selected != manifest["clinical"].get("selected"):
        raise PackageConfigurationError(
            f"{folder / _CLINICAL_FILE} selects {clinical_models.selected!r}, but the manifest "
            f"says {manifest['clinical'].get('selected')!r}."
        )

    return ModelPackage(
        path=folder,
        config=config,
        ct_model=ct_model,
        joint_model=joint_model,
        scorer=CNNSliceScorer(scorer_network, image_size=config.scorer_image_size),
        clinical_scaler=scaler,
        clinical_models=clinical_models,
        manifest=manifest,
    )
