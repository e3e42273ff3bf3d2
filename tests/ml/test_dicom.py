from __future__ import annotations

import numpy as np
import pytest

from ml.dicom import labels_in_volume_order, read_series


def test_series_sorted_by_position(p001_series):
    assert p001_series.volume_hu.shape == (148, 512, 512)
    assert np.all(np.diff(p001_series.positions) > 0)


def test_series_spacing_and_hu_range(p001_series):
    assert p001_series.spacing == pytest.approx((2.0, 0.748046875, 0.748046875))
    assert p001_series.volume_hu.min() == -1024.0
    assert p001_series.volume_hu.max() > 1000.0


def test_empty_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="No .dcm file"):
        read_series(tmp_path)


def test_labels_reversed_into_volume_order():
    labels = np.zeros(200, dtype=np.int32)
    labels[0] = 1  # the slice nearest the head
    ordered = labels_in_volume_order(labels, 148)
    assert ordered.shape == (148,)
    assert ordered[-1] == 1
    assert ordered[:-1].sum() == 0


def test_labels_with_nonzero_padding_raise():
    labels = np.zeros(200, dtype=np.int32)
    labels[160] = 1
    with pytest.raises(ValueError, match="zero padding"):
        labels_in_volume_order(labels, 148)
