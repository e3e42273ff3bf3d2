"""Slice selection: score every kept slice for abnormality and keep the most abnormal.

Any object with a ``score`` method that follows :class:`SliceScorer` can replace the
bundled :class:`CNNSliceScorer`, for example a site's own pretrained network.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from ml.networks import SliceScorerCNN

__all__ = ["CNNSliceScorer", "SliceScorer", "select_slices", "to_model_input"]


def to_model_input(slices: NDArray[np.uint8], size: int) -> torch.Tensor:
    """Convert lung-segmented 8-bit slices (n, y, x) to a float tensor (n, 1, size, size) in [0, 1]."""
    values = np.asarray(slices)
    if values.ndim != 3:
        raise ValueError(f"slices must have shape (n, y, x), got {values.shape}.")
    tensor = torch.from_numpy(values.astype(np.float32) / 255.0)[:, None]
    if tensor.shape[-2:] != (size, size):
        tensor = F.interpolate(tensor, size=(size, size), mode="bilinear", antialias=True)
    return tensor


@runtime_checkable
class SliceScorer(Protocol):
    """Anything that scores lung-segmented slices; higher means more abnormal."""

    def score(self, slices: NDArray[np.uint8]) -> NDArray[np.float64]:
        """Return one abnormality score per slice.

        Parameters
        ----------
        slices : ndarray of uint8, shape (n, y, x)
            Lung-window slices with every pixel outside the lung mask set to 0.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        ...


class CNNSliceScorer:
    """Score slices with :class:`ml.networks.SliceScorerCNN` as P(abnormal).

    Parameters
    ----------
    network : SliceScorerCNN
        Trained network; it is switched to evaluation mode.
    image_size : int
        Side in pixels that slices are resized to.
    batch_size : int
        Slices per forward pass.
    """

    def __init__(self, network: SliceScorerCNN, *, image_size: int, batch_size: int = 32) -> None:
        if image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {image_size!r}.")
        self.network = network.eval()
        self.image_size = int(image_size)
        self.batch_size = int(batch_size)

    def score(self, slices: NDArray[np.uint8]) -> NDArray[np.float64]:
        values = np.asarray(slices)
        if values.ndim != 3:
            raise ValueError(f"slices must have shape (n, y, x), got {values.shape}.")
        scores = []
        with torch.inference_mode():
            for start in range(0, len(values), self.batch_size):
                batch = to_model_input(values[start : start + self.batch_size], self.image_size)
                scores.append(torch.sigmoid(self.network(batch)).double().numpy())
        return np.concatenate(scores) if scores else np.zeros(0)


def select_slices(
    scores: NDArray[np.floating], indices: NDArray[np.integer], count: int = 10
) -> NDArray[np.int64]:
    """Return the indices of the ``count`` highest-scoring slices, all when fewer.

    Ties keep the lower slice index first; the result is in order of decreasing score.

    Parameters
    ----------
    scores : ndarray, shape (n,)
        Abnormality score of each candidate slice.
    indices : ndarray of int, shape (n,)
        Volume index of each candidate slice.
    count : int
        Number of slices to keep.
    """
    values = np.asarray(scores, dtype=np.float64)
    index = np.asarray(indices, dtype=np.int64)
    if values.shape != index.shape or values.ndim != 1:
        raise ValueError(
            f"scores and indices must be 1-D of one length, got {values.shape} and {index.shape}."
        )
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count!r}.")
    order = np.lexsort((index, -values))
    return index[order[:count]]
