"""Read one CT series from a folder of DICOM files into a Hounsfield-unit volume.

Slices are ordered by ImagePositionPatient projected on the slice normal, because file
names and InstanceNumber do not reliably follow anatomy. Compressed transfer syntaxes
such as JPEG Lossless need the pylibjpeg plug-ins installed next to pydicom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from numpy.typing import NDArray

__all__ = ["CTSeries", "labels_in_volume_order", "read_series"]


@dataclass(frozen=True)
class CTSeries:
    """A CT series as a volume in Hounsfield units.

    Attributes
    ----------
    volume_hu : ndarray of float32, shape (z, y, x)
        Slices ordered by increasing position along the slice normal.
    spacing : tuple of float
        Voxel size in millimetres as (z, y, x); z is the median distance between
        neighbouring slice positions.
    positions : ndarray of float64, shape (z,)
        ImagePositionPatient projected on the slice normal, in millimetres.
    series_uid : str
        SeriesInstanceUID of the first file.
    """

    volume_hu: NDArray[np.float32]
    spacing: tuple[float, float, float]
    positions: NDArray[np.float64]
    series_uid: str


def read_series(directory: str | Path) -> CTSeries:
    """Read every ``*.dcm`` file in a folder as one axial CT series.

    Parameters
    ----------
    directory : str or Path
        Folder that contains the files of exactly one series.

    Returns
    -------
    CTSeries

    Raises
    ------
    FileNotFoundError
        If the folder contains no ``.dcm`` file.
    ValueError
        If the files belong to more than one series, differ in orientation or size,
        or two slices share a position.
    """
    folder = Path(directory)
    files = sorted(folder.glob("*.dcm"))
    if not files:
        raise FileNotFoundError(f"No .dcm file found in {folder}; expected one CT series.")

    datasets = [pydicom.dcmread(path) for path in files]
    series_uids = {str(ds.SeriesInstanceUID) for ds in datasets}
    if len(series_uids) != 1:
        raise ValueError(
            f"{folder} contains {len(series_uids)} series ({sorted(series_uids)}); "
            "expected the files of exactly one series."
        )

    orientation = np.asarray(datasets[0].ImageOrientationPatient, dtype=np.float64)
    for path, ds in zip(files, datasets):
        if not np.allclose(np.asarray(ds.ImageOrientationPatient, dtype=np.float64), orientation):
            raise ValueError(
                f"{path.name} has ImageOrientationPatient {list(ds.ImageOrientationPatient)}, "
                f"but the first file has {orientation.tolist()}; expected one orientation."
            )
    normal = np.cross(orientation[:3], orientation[3:])
    positions = np.array(
        [np.dot(np.asarray(ds.ImagePositionPatient, dtype=np.float64), normal) for ds in datasets]
    )
    order = np.argsort(positions, kind="stable")
    positions = positions[order]
    if np.any(np.diff(positions) == 0):
        raise ValueError(
            f"{folder} has two slices at the same position; expected one slice per position."
        )

    slices = []
    for index in order:
        ds = datasets[index]
        slope = float(getattr(ds, "RescaleSlope", 1.0))
        intercept = float(getattr(ds, "RescaleIntercept", 0.0))
        slices.append(ds.pixel_array.astype(np.float32) * slope + intercept)
    shapes = {s.shape for s in slices}
    if len(shapes) != 1:
        raise ValueError(f"{folder} mixes slice sizes {sorted(shapes)}; expected one size.")

    row_spacing, column_spacing = (float(v) for v in datasets[0].PixelSpacing)
    z_spacing = float(np.median(np.diff(positions))) if len(positions) > 1 else float(
        getattr(datasets[0], "SliceThickness", 1.0)
    )
    return CTSeries(
        volume_hu=np.stack(slices),
        spacing=(z_spacing, row_spacing, column_spacing),
        positions=positions,
        series_uid=series_uids.pop(),
    )


def labels_in_volume_order(labels: Sequence[int] | NDArray[np.integer], n_slices: int) -> NDArray[np.int64]:
    """Reorder per-slice labels given from the top slice down into volume order.

    COVID-CT-MD stores slice-level labels in order of decreasing SliceLocation (head
    first, zero-padded to 200), while :func:`read_series` orders slices by increasing
    position. This checks the padding and reverses the order.

    Parameters
    ----------
    labels : sequence of int
        Labels with index 0 for the most superior slice; values past ``n_slices`` are
        padding and must be 0.
    n_slices : int
        Number of slices in the series.

    Returns
    -------
    ndarray of int64, shape (n_slices,)
        Labels aligned with ``CTSeries.volume_hu``.
    """
    values = np.asarray(labels, dtype=np.int64)
    if values.ndim != 1 or values.size < n_slices:
        raise ValueError(
            f"labels must be one-dimensional with at least {n_slices} entries, "
            f"got shape {values.shape}."
        )
    if np.any(values[n_slices:] != 0):
        raise ValueError(
            f"labels past slice {n_slices} must be zero padding, got "
            f"{int(np.count_nonzero(values[n_slices:]))} non-zero values; is n_slices right?"
        )
    return values[:n_slices][::-1].copy()
