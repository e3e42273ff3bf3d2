from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from ml.preprocessing import BodyMask, LungMask, LungSliceFilter, LungWindow, segment_volume

MID_CHEST = 80  # a P001 slice through both lungs at the level of the hilum


def test_lung_window_maps_window_edges():
    hu = np.array([[-2000.0, -1350.0, -600.0, 150.0, 3000.0]])
    windowed = LungWindow()(hu)
    assert windowed.dtype == np.uint8
    assert windowed.tolist() == [[0, 0, 128, 255, 255]]


def test_lung_window_rejects_nonpositive_width():
    with pytest.raises(ValueError, match="width must be a positive"):
        LungWindow(width=0)


def test_body_mask_keeps_largest_component_and_fills_holes():
    windowed = np.zeros((1, 40, 40), dtype=np.uint8)
    windowed[0, 5:30, 5:30] = 200  # body with a dark hole
    windowed[0, 10:20, 10:20] = 0
    windowed[0, 33:37, 33:37] = 200  # small separate object, e.g. the table
    body = BodyMask()(windowed)
    assert body[0, 15, 15]
    assert body[0, 5:30, 5:30].all()
    assert not body[0, 33:37, 33:37].any()


def test_body_mask_works_per_slice():
    windowed = np.zeros((2, 20, 20), dtype=np.uint8)
    windowed[0, 2:10, 2:10] = 200
    windowed[1, 2:5, 2:5] = 200  # largest in its own slice, though smaller than slice 0's
    body = BodyMask()(windowed)
    assert body[1, 2:5, 2:5].all()
    assert body[0].sum() == 64


def test_lung_mask_drops_components_under_64_pixels():
    windowed = np.full((1, 60, 60), 200, dtype=np.uint8)
    windowed[0, 5:13, 5:13] = 0  # 64 pixels: kept
    windowed[0, 30:37, 30:39] = 0  # 63 pixels: removed
    body = np.ones_like(windowed, dtype=bool)
    lung = LungMask(dilation_radius=0)(windowed, body)
    assert lung[0, 5:13, 5:13].all()
    assert not lung[0, 30:37, 30:39].any()


def test_lung_mask_dilates_by_ten_pixels():
    windowed = np.full((1, 101, 101), 200, dtype=np.uint8)
    windowed[0, 46:55, 46:55] = 0  # 81-pixel square, edges at rows/columns 46 and 54
    lung = LungMask()(windowed, np.ones_like(windowed, dtype=bool))[0]
    assert lung[54 + 10, 50]
    assert not lung[54 + 11, 50]
    # Diagonal from the corner (54, 54): distance sqrt(7**2 + 7**2) = 9.9 is in, 8**2 * 2 is out.
    assert lung[61, 61]
    assert not lung[62, 62]


def test_lung_mask_dilation_matches_per_slice_distance(p001_segmented):
    windowed = p001_segmented.windowed[MID_CHEST : MID_CHEST + 1]
    body = p001_segmented.body[MID_CHEST : MID_CHEST + 1]
    undilated = LungMask(dilation_radius=0)(windowed, body)[0]
    expected = ndimage.distance_transform_edt(~undilated) <= 10
    assert np.array_equal(p001_segmented.lung[MID_CHEST], expected)


def test_volume_result_equals_slice_by_slice(p001_segmented):
    stack = p001_segmented.windowed[MID_CHEST - 1 : MID_CHEST + 2]
    body = BodyMask()(stack)
    lung = LungMask()(stack, body)
    for offset in range(3):
        single_body = BodyMask()(stack[offset])
        assert np.array_equal(body[offset], single_body[0])
        assert np.array_equal(lung[offset], LungMask()(stack[offset], single_body)[0])


def test_chest_slice_lung_fraction(p001_segmented):
    fraction = p001_segmented.lung_fraction[MID_CHEST]
    # Both lungs at hilar level cover roughly half of the body cross-section.
    assert 0.4 < fraction < 0.75
    assert p001_segmented.kept[MID_CHEST]


def test_lung_apex_and_abdomen_slices_discarded(p001_segmented):
    kept = p001_segmented.kept_indices
    assert 80 <= kept.size <= 130
    assert not p001_segmented.kept[0]  # lowest slice, upper abdomen
    assert not p001_segmented.kept[-1]  # above the lung apices
    assert np.all(np.diff(kept) == 1)  # one contiguous run of lung slices


def test_abdominal_slice_discarded_by_twenty_percent_rule(read_slice, resources):
    segmented = segment_volume(read_slice(resources / "sbu_abdomen.dcm"))
    assert segmented.body[0].sum() > 50_000
    assert 0.0 < segmented.lung_fraction[0] < 0.2  # bowel gas only
    assert not segmented.kept[0]


def test_other_scanner_chest_slice_kept(read_slice, resources):
    segmented = segment_volume(read_slice(resources / "sbu_chest.dcm"))
    assert segmented.lung_fraction[0] >= 0.2
    assert segmented.kept[0]


def test_lung_segmented_slices_zero_outside_lung(p001_segmented):
    slices = p001_segmented.lung_segmented([MID_CHEST])
    assert slices.shape == (1, 512, 512)
    assert not slices[0][~p001_segmented.lung[MID_CHEST]].any()
    assert slices[0][p001_segmented.lung[MID_CHEST]].any()


def test_slice_filter_rejects_fraction_outside_unit_interval():
    with pytest.raises(ValueError, match="min_lung_fraction"):
        LungSliceFilter(1.5)
