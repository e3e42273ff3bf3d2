from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from ml.heatmap import ct_heatmap, joint_gradcam, overlay_png
from ml.scoring import to_model_input

MID_CHEST = 80


def test_ct_heatmap_shape_and_mask(p001_segmented):
    lung = p001_segmented.lung[MID_CHEST]
    heatmap = ct_heatmap(torch.randn(16, 16), lung)
    assert heatmap.shape == (512, 512)
    assert heatmap.dtype == np.float32
    assert not heatmap[~lung].any()
    assert heatmap[lung].min() > 0.0
    assert heatmap.max() < 1.0


def test_ct_heatmap_upsamples_region_position():
    logit_map = torch.full((4, 4), -10.0)
    logit_map[0, 3] = 10.0  # top-right region
    heatmap = ct_heatmap(logit_map, np.ones((128, 128), dtype=bool))
    assert heatmap[10, 120] > 0.99
    assert heatmap[120, 10] < 0.01


def test_overlay_png_colours_only_the_lung(p001_segmented):
    lung = p001_segmented.lung[MID_CHEST]
    grey = p001_segmented.windowed[MID_CHEST]
    heatmap = np.where(lung, 1.0, 0.0).astype(np.float32)
    png = overlay_png(grey, heatmap)
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape == (512, 512, 3)
    assert np.array_equal(image[~lung][:, 0], grey[~lung])
    # jet maps 1.0 to dark red: red above blue inside the lung.
    inside = image[lung].astype(int)
    assert (inside[:, 0] > inside[:, 2]).all()


def test_overlay_png_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="one 2-D shape"):
        overlay_png(np.zeros((4, 4), np.uint8), np.zeros((5, 5)))


def test_joint_gradcam_shape_and_mask(quick_package, p001_segmented):
    indices = [MID_CHEST, MID_CHEST + 5]
    images = to_model_input(p001_segmented.lung_segmented(indices), quick_package.config.image_size)
    clinical = torch.rand(12)
    maps = joint_gradcam(quick_package.joint_model, images, clinical, p001_segmented.lung[indices])
    assert maps.shape == (2, 512, 512)
    for map_, lung in zip(maps, p001_segmented.lung[indices]):
        assert not map_[~lung].any()
        assert map_.min() >= 0.0
        assert map_.max() <= 1.0
