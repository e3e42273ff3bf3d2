"""Model and training configuration, stored in the package manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["QUICK_TRAINING", "ModelConfig", "TrainingConfig"]


@dataclass(frozen=True)
class ModelConfig:
    """Settings that the weights depend on; loading checks them against the weights.

    Attributes
    ----------
    image_size : int
        Side in pixels of the square input of the CT and joint models (a multiple of 32).
    scorer_image_size : int
        Side in pixels of the slice scorer's input.
    slices_per_case : int
        Number of most abnormal slices that represent a case.
    n_clinical : int
        Number of clinical features.
    joint_hidden, joint_blocks : int
        Width and number of the joint MLP's blocks.
    joint_noise_std : float
        Standard deviation of the Gaussian noise on the joint MLP's inputs in training.
    """

    image_size: int = 512
    scorer_image_size: int = 128
    slices_per_case: int = 10
    n_clinical: int = 12
    joint_hidden: int = 64
    joint_blocks: int = 3
    joint_noise_std: float = 0.1

    def __post_init__(self) -> None:
        if self.image_size < 32 or self.image_size % 32:
            raise ValueError(
                f"image_size must be a multiple of 32 pixels, got {self.image_size!r}."
            )
        if self.scorer_image_size < 16 or self.scorer_image_size % 16:
            raise ValueError(
                f"scorer_image_size must be a multiple of 16 pixels, got {self.scorer_image_size!r}."
            )
        if self.slices_per_case < 1:
            raise ValueError(f"slices_per_case must be at least 1, got {self.slices_per_case!r}.")

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Build a configuration from :meth:`to_dict` output; unknown keys raise ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown model configuration keys {unknown}; expected {sorted(known)}.")
        return cls(**values)


@dataclass(frozen=True)
class TrainingConfig:
    """Training recipe. The defaults follow Mei et al., Nature Medicine 26, 1224 (2020).

    Attributes
    ----------
    epochs : int
        Epochs of CT-model and joint-model training.
    batch_size : int
        Images per optimisation step.
    learning_rate, learning_rate_decay : float
        Adam learning rate of the CT model and its factor per epoch.
    joint_learning_rate : float
        Adam learning rate of the joint model.
    pretrain_epochs : int
        Epochs of weakly supervised pretraining on random lung patches.
    patch_fraction : float
        Side of a pretraining patch as a fraction of ``image_size``.
    checkpoint_every : int
        Iterations between evaluations of the tuning loss; the checkpoint with the lowest
        tuning loss is kept. The loss is also checked at the end of every epoch.
    scorer_epochs : int
        Epochs of slice-scorer training.
    split : tuple of float
        Training, tuning and test fractions of the stratified patient-level split.
    rotation_degrees : float
        Range of the random rotation, plus or minus, in degrees.
    augmentation_prob : float
        Probability of each augmentation (rotation, grid distortion, cutout).
    seed : int
        Seed of every random generator.
    max_slices_per_case : int or None
        Keep at most this many kept slices per case, evenly spaced (None keeps all).
    """

    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = 0.001
    learning_rate_decay: float = 0.95
    joint_learning_rate: float = 0.002
    pretrain_epochs: int = 1
    patch_fraction: float = 0.25
    checkpoint_every: int = 100
    scorer_epochs: int = 10
    split: tuple[float, float, float] = (0.6, 0.1, 0.3)
    rotation_degrees: float = 15.0
    augmentation_prob: float = 0.5
    seed: int = 0
    max_slices_per_case: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be at least 1, got {self.epochs!r} and {self.batch_size!r}."
            )
        if len(self.split) != 3 or any(f <= 0 for f in self.split) or abs(sum(self.split) - 1) > 1e-6:
            raise ValueError(
                f"split must be three positive fractions that sum to 1, got {self.split!r}."
            )
        if not 0 < self.patch_fraction <= 1:
            raise ValueError(f"patch_fraction must lie in (0, 1], got {self.patch_fraction!r}.")

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        values = asdict(self)
        values["split"] = list(self.split)
        return values


# Small enough to finish in well under two minutes on two CPU cores with 64 px images.
QUICK_TRAINING = TrainingConfig(
    epochs=2,
    batch_size=8,
    scorer_epochs=2,
    checkpoint_every=5,
    max_slices_per_case=24,
)
