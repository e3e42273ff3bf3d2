"""Heat maps: the CT model's region map and Grad-CAM of the joint model.

The CT heat map is the sigmoid of the logit map before the max pool, upsampled to the
slice size and set to 0 outside the lung mask. Red marks regions more likely positive.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from monai.visualize import GradCAM
from numpy.typing import NDArray
from PIL import Image
from torch import nn

from ml.networks import JointModel

__all__ = ["ct_heatmap", "joint_gradcam", "overlay_png"]


def _upsample_and_mask(values: torch.Tensor, lung_mask: NDArray[np.bool_]) -> NDArray[np.float32]:
    mask = np.asarray(lung_mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"lung_mask must have shape (y, x), got {mask.shape}.")
    upsampled = F.interpolate(
        values[None, None].float(), size=mask.shape, mode="bilinear", align_corners=False
    )[0, 0]
    return np.where(mask, upsampled.numpy(), 0.0).astype(np.float32)


def ct_heatmap(logit_map: torch.Tensor, lung_mask: NDArray[np.bool_]) -> NDArray[np.float32]:
    """Turn a region logit map (h, w) into a probability map of the slice's shape.

    Parameters
    ----------
    logit_map : Tensor, shape (h, w)
        Output of the CT model's 1 x 1 convolution for one slice.
    lung_mask : ndarray of bool, shape (y, x)
        Lung mask of the slice at its original size.

    Returns
    -------
    ndarray of float32, shape (y, x)
        Region probability in [0, 1] inside the lung, 0 outside.
    """
    if logit_map.ndim != 2:
        raise ValueError(f"logit_map must have shape (h, w), got {tuple(logit_map.shape)}.")
    return _upsample_and_mask(torch.sigmoid(logit_map.detach()), lung_mask)


def overlay_png(
    windowed_slice: NDArray[np.uint8],
    heatmap: NDArray[np.floating],
    path: str | Path | None = None,
    *,
    alpha: float = 0.5,
    colormap: str = "jet",
) -> bytes:
    """Blend a heat map in colour over a grey lung-window slice and encode it as PNG.

    Pixels where the heat map is 0 (outside the lung) keep their grey value.

    Parameters
    ----------
    windowed_slice : ndarray of uint8, shape (y, x)
        Lung-window slice.
    heatmap : ndarray, shape (y, x)
        Values in [0, 1].
    path : str or Path, optional
        Also write the PNG to this file.
    alpha : float
        Opacity of the colour at a heat-map value of 1.
    colormap : str
        Matplotlib colormap name; in "jet", red is high.

    Returns
    -------
    bytes
        The PNG file's content.
    """
    grey = np.asarray(windowed_slice)
    heat = np.clip(np.asarray(heatmap, dtype=np.float32), 0.0, 1.0)
    if grey.shape != heat.shape or grey.ndim != 2:
        raise ValueError(
            f"windowed_slice and heatmap must have one 2-D shape, got {grey.shape} and {heat.shape}."
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}.")

    colour = colormaps[colormap](heat)[..., :3].astype(np.float32) * 255.0
    base = np.repeat(grey[..., None].astype(np.float32), 3, axis=2)
    weight = np.where(heat > 0, alpha, 0.0)[..., None]
    blended = np.clip(np.rint(base * (1 - weight) + colour * weight), 0, 255).astype(np.uint8)

    buffer = io.BytesIO()
    Image.fromarray(blended, mode="RGB").save(buffer, format="PNG")
    content = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(content)
    return content


class _JointWithFixedClinical(nn.Module):
    """Joint model as a one-input network, so that Grad-CAM can call it with images only."""

    def __init__(self, model: JointModel, clinical: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.clinical = clinical

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        clinical = self.clinical.expand(images.shape[0], -1)
        return self.model(images, clinical).logit[:, None]


def joint_gradcam(
    model: JointModel,
    images: torch.Tensor,
    clinical: torch.Tensor,
    lung_masks: NDArray[np.bool_],
) -> NDArray[np.float32]:
    """Compute Grad-CAM (MONAI) of the joint logit on the last residual stage.

    Parameters
    ----------
    model : JointModel
        Switched to evaluation mode.
    images : Tensor, shape (n, 1, s, s)
        Model inputs of the slices.
    clinical : Tensor, shape (12,) or (1, 12)
        Scaled clinical features of the case.
    lung_masks : ndarray of bool, shape (n, y, x)
        Lung masks at the original slice size.

    Returns
    -------
    ndarray of float32, shape (n, y, x)
        Grad-CAM normalised to [0, 1] per slice, 0 outside the lung.
    """
    masks = np.asarray(lung_masks, dtype=bool)
    if masks.ndim != 3 or masks.shape[0] != images.shape[0]:
        raise ValueError(
            f"lung_masks must have shape ({images.shape[0]}, y, x), got {masks.shape}."
        )
    wrapper = _JointWithFixedClinical(model.eval(), clinical.reshape(1, -1).float())
    cam = GradCAM(nn_module=wrapper, target_layers="model.cnn.backbone.layer4")
    with torch.enable_grad():
        maps = cam(x=images.float(), class_idx=0)
    return np.stack(
        [_upsample_and_mask(maps[i, 0].detach(), masks[i]) for i in range(images.shape[0])]
    )
