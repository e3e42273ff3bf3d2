"""Lung-window a CT volume, segment body and lungs, and keep the slices that show lung.

Every rule works on 8-bit lung-window intensities and pixel counts at the scanner's
in-plane resolution (512 x 512 in the training data):

1. The lung window (width 1500 HU, level -600 HU) maps HU linearly to 0-255.
2. The body mask is the largest connected component of pixels above 175, holes filled.
3. The lung mask is pixels below 175 inside the body, without components under 64 pixels,
   dilated by 10 pixels so that it includes the pleura.
4. A slice is discarded when its lung area is under 20% of its body area.

Each transform works on a whole volume at once. Connected components are labelled with an
in-plane structuring element, so that components never join across slices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = [
    "BodyMask",
    "LungMask",
    "LungSliceFilter",
    "LungWindow",
    "SegmentedVolume",
    "segment_volume",
]

# 8-connectivity within a slice and no connection between slices.
_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[1] = True


def _as_volume(array: NDArray[Any], name: str) -> NDArray[Any]:
    values = np.asarray(array)
    if values.ndim == 2:
        values = values[np.newaxis]
    if values.ndim != 3:
        raise ValueError(
            f"{name} must be a slice (y, x) or a volume (z, y, x), got shape {values.shape}."
        )
    return values


class LungWindow:
    """Map Hounsfield units to 0-255 through a linear window.

    Parameters
    ----------
    width, level : float
        Window width and centre in HU; the defaults are the lung window.
    """

    def __init__(self, width: float = 1500.0, level: float = -600.0) -> None:
        if not width > 0:
            raise ValueError(f"width must be a positive number of HU, got {width!r}.")
        self.width = float(width)
        self.level = float(level)

    def __call__(self, volume_hu: NDArray[np.floating]) -> NDArray[np.uint8]:
        values = np.asarray(volume_hu, dtype=np.float32)
        lower = self.level - self.width / 2.0
        scaled = (values - lower) * (255.0 / self.width)
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


class BodyMask:
    """Select the largest connected component above a threshold in each slice, holes filled.

    Parameters
    ----------
    threshold : int
        Windowed intensity above which a pixel counts as tissue.
    """

    def __init__(self, threshold: int = 175) -> None:
        if not 0 <= threshold <= 255:
            raise ValueError(f"threshold must lie in 0-255, got {threshold!r}.")
        self.threshold = int(threshold)

    def __call__(self, windowed: NDArray[np.uint8]) -> NDArray[np.bool_]:
        volume = _as_volume(windowed, "windowed")
        tissue = volume > self.threshold
        labels, count = ndimage.label(tissue, structure=_IN_PLANE)
        body = np.zeros(volume.shape, dtype=bool)
        if count == 0:
            return body

        sizes = np.bincount(labels.ravel())[1:]
        # Every component lies in one slice, so its bounding box starts in that slice.
        boxes = ndimage.find_objects(labels)
        component_slice = np.array([box[0].start for box in boxes])
        # Sort by slice, then by size; the last component of each slice is its largest.
        order = np.lexsort((sizes, component_slice))
        last_of_slice = np.r_[component_slice[order][1:] != component_slice[order][:-1], True]
        largest = order[last_of_slice] + 1

        body = np.isin(labels, largest)
        return ndimage.binary_fill_holes(body, structure=_IN_PLANE)


class LungMask:
    """Segment the lungs as dark pixels inside the body.

    Parameters
    ----------
    threshold : int
        Windowed intensity below which a body pixel counts as lung.
    min_component_size : int
        Components with fewer pixels are removed before dilation.
    dilation_radius : int
        Radius in pixels of the disc that dilates the mask to include the pleura.
    """

    def __init__(
        self, threshold: int = 175, min_component_size: int = 64, dilation_radius: int = 10
    ) -> None:
        if not 0 <= threshold <= 255:
            raise ValueError(f"threshold must lie in 0-255, got {threshold!r}.")
        if min_component_size < 1:
            raise ValueError(f"min_component_size must be at least 1, got {min_component_size!r}.")
        if dilation_radius < 0:
            raise ValueError(f"dilation_radius must be 0 or more pixels, got {dilation_radius!r}.")
        self.threshold = int(threshold)
        self.min_component_size = int(min_component_size)
        self.dilation_radius = int(dilation_radius)

    def __call__(
        self, windowed: NDArray[np.uint8], body: NDArray[np.bool_]
    ) -> NDArray[np.bool_]:
        volume = _as_volume(windowed, "windowed")
        body_volume = _as_volume(body, "body")
        if body_volume.shape != volume.shape:
            raise ValueError(
                f"body must have the shape of windowed {volume.shape}, got {body_volume.shape}."
            )

        lung = (volume < self.threshold) & body_volume
        labels, count = ndimage.label(lung, structure=_IN_PLANE)
        if count:
            sizes = np.bincount(labels.ravel())
            keep = sizes >= self.min_component_size
            keep[0] = False
            lung = keep[labels]
        if self.dilation_radius == 0 or not lung.any():
            return lung

        return _dilate_in_plane(lung, self.dilation_radius)


def _dilate_in_plane(mask: NDArray[np.bool_], radius: int) -> NDArray[np.bool_]:
    """Dilate every slice by a disc of ``radius`` pixels (Euclidean distance <= radius).

    Only the bounding box of the mask, grown by the radius, is transformed. Its slices
    are stacked into one tall image with ``radius + 1`` empty rows between neighbours,
    so one 2-D distance transform serves the whole volume and no dilation reaches into
    the next slice.
    """
    _, height, width = mask.shape
    occupied = np.flatnonzero(mask.any(axis=(0, 2)))
    rows = slice(max(occupied[0] - radius, 0), min(occupied[-1] + radius + 1, height))
    occupied = np.flatnonzero(mask.any(axis=(0, 1)))
    columns = slice(max(occupied[0] - radius, 0), min(occupied[-1] + radius + 1, width))
    with_mask = np.flatnonzero(mask.any(axis=(1, 2)))

    crop = mask[with_mask, rows, columns]
    crop_height, crop_width = crop.shape[1:]
    gap = radius + 1
    mosaic = np.zeros((len(with_mask), crop_height + gap, crop_width), dtype=bool)
    mosaic[:, :crop_height] = crop
    distance = ndimage.distance_transform_edt(~mosaic.reshape(-1, crop_width))
    dilated_crop = distance.reshape(mosaic.shape)[:, :crop_height] <= radius

    dilated = np.zeros_like(mask)
    dilated[with_mask, rows, columns] = dilated_crop
    return dilated


class LungSliceFilter:
    """Flag slices whose lung area is at least a fraction of their body area.

    Parameters
    ----------
    min_lung_fraction : float
        Smallest lung-to-body area ratio of a kept slice.
    """

    def __init__(self, min_lung_fraction: float = 0.2) -> None:
        if not 0.0 <= min_lung_fraction <= 1.0:
            raise ValueError(f"min_lung_fraction must lie in [0, 1], got {min_lung_fraction!r}.")
        self.min_lung_fraction = float(min_lung_fraction)

    def lung_fraction(
        self, lung: NDArray[np.bool_], body: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Return the lung area divided by the body area of each slice (0 without body)."""
        lung_area = _as_volume(lung, "lung").sum(axis=(1, 2), dtype=np.float64)
        body_area = _as_volume(body, "body").sum(axis=(1, 2), dtype=np.float64)
        return np.divide(lung_area, body_area, out=np.zeros_like(lung_area), where=body_area > 0)

    def __call__(self, lung: NDArray[np.bool_], body: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return self.lung_fraction(lung, body) >= self.min_lung_fraction


@dataclass(frozen=True)
class SegmentedVolume:
    """A windowed volume with its masks and the slices kept for diagnosis.

    Attributes
    ----------
    windowed : ndarray of uint8, shape (z, y, x)
        Lung-window intensities.
    body, lung : ndarray of bool, shape (z, y, x)
        Body and dilated lung masks.
    lung_fraction : ndarray of float64, shape (z,)
        Lung area over body area per slice.
    kept : ndarray of bool, shape (z,)
        True for slices with enough lung to be scored.
    """

    windowed: NDArray[np.uint8]
    body: NDArray[np.bool_]
    lung: NDArray[np.bool_]
    lung_fraction: NDArray[np.float64]
    kept: NDArray[np.bool_]

    @property
    def kept_indices(self) -> NDArray[np.int64]:
        """Indices of the kept slices in volume order."""
        return np.flatnonzero(self.kept)

    def lung_segmented(self, indices: NDArray[np.integer] | list[int]) -> NDArray[np.uint8]:
        """Return the windowed slices at ``indices`` with every pixel outside the lung set to 0."""
        index = np.asarray(indices, dtype=np.int64)
        return np.where(self.lung[index], self.windowed[index], 0).astype(np.uint8)


def segment_volume(
    volume_hu: NDArray[np.floating],
    *,
    window: LungWindow | None = None,
    body_mask: BodyMask | None = None,
    lung_mask: LungMask | None = None,
    slice_filter: LungSliceFilter | None = None,
) -> SegmentedVolume:
    """Apply the four preprocessing rules to a volume (z, y, x) in HU.

    Parameters
    ----------
    volume_hu : ndarray, shape (z, y, x) or (y, x)
        CT intensities in Hounsfield units.
    window, body_mask, lung_mask, slice_filter : optional
        Transforms to use in place of the defaults.

    Returns
    -------
    SegmentedVolume
    """
    volume = _as_volume(volume_hu, "volume_hu")
    if not np.issubdtype(volume.dtype, np.number):
        raise TypeError(f"volume_hu must be numeric HU values, got dtype {volume.dtype}.")
    window = window or LungWindow()
    body_mask = body_mask or BodyMask()
    lung_mask = lung_mask or LungMask()
    slice_filter = slice_filter or LungSliceFilter()

    windowed = window(volume)
    body = body_mask(windowed)
    lung = lung_mask(windowed, body)
    fraction = slice_filter.lung_fraction(lung, body)
    return SegmentedVolume(
        windowed=windowed,
        body=body,
        lung=lung,
        lung_fraction=fraction,
        kept=fraction >= slice_filter.min_lung_fraction,
    )
