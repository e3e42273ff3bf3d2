"""Networks of the three models: the slice scorer, the CT model and the joint model.

The CT model is a 2-D ResNet-18 whose classifier is replaced by a 1 x 1 convolution to a
spatial map of logits and a global max pool. An image is then positive when any region is
positive (multiple-instance learning). Because the sigmoid is monotonic, the max over logits
equals the max over region log-probabilities. The map before pooling is the heat map.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from monai.networks.nets import resnet18
from torch import nn

__all__ = [
    "FEATURE_CHANNELS",
    "CTOutput",
    "JointModel",
    "JointOutput",
    "MaxPoolResNet",
    "SliceScorerCNN",
]

FEATURE_CHANNELS = 512


class CTOutput(NamedTuple):
    """Outputs of :class:`MaxPoolResNet` for a batch.

    Attributes
    ----------
    logit : Tensor, shape (n,)
        Image logit: the maximum of ``logit_map``.
    logit_map : Tensor, shape (n, h, w)
        Region logits at 1/32 of the input size.
    features : Tensor, shape (n, 512)
        Global average of the last convolutional feature map.
    """

    logit: torch.Tensor
    logit_map: torch.Tensor
    features: torch.Tensor


class MaxPoolResNet(nn.Module):
    """ResNet-18 (MONAI, one input channel) with a max-pooled 1 x 1 convolution head.

    Inputs are lung-segmented slices scaled to [0, 1], shape (n, 1, h, w), with h and w
    multiples of 32.
    """

    def __init__(self) -> None:
        super().__init__()
        # Stride 2 in the first convolution, as in the original ResNet-18, so that the
        # output is 1/32 of the input; MONAI's default stride of 1 gives 1/16 at 4x the cost.
        backbone = resnet18(
            spatial_dims=2, n_input_channels=1, num_classes=1, conv1_t_stride=2
        )
        # The classifier and average pool of the backbone are unused.
        backbone.fc = nn.Identity()  # type: ignore[assignment]
        backbone.avgpool = nn.Identity()  # type: ignore[assignment]
        self.backbone = backbone
        self.head = nn.Conv2d(FEATURE_CHANNELS, 1, kernel_size=1)

    def feature_map(self, images: torch.Tensor) -> torch.Tensor:
        """Return the output of the last residual stage, shape (n, 512, h/32, w/32)."""
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(
                f"images must have shape (n, 1, h, w), got {tuple(images.shape)}."
            )
        b = self.backbone
        x = b.maxpool(b.act(b.bn1(b.conv1(images))))
        return b.layer4(b.layer3(b.layer2(b.layer1(x))))

    def forward(self, images: torch.Tensor) -> CTOutput:
        features = self.feature_map(images)
        logit_map = self.head(features)[:, 0]
        logit = torch.amax(logit_map, dim=(1, 2))
        return CTOutput(logit=logit, logit_map=logit_map, features=features.mean(dim=(2, 3)))


class JointOutput(NamedTuple):
    """Outputs of :class:`JointModel`: the joint logit and the CT model's outputs."""

    logit: torch.Tensor
    ct: CTOutput


class JointModel(nn.Module):
    """CT features and clinical features joined by a multilayer perceptron.

    The 512-d average-pooled CNN feature and the clinical vector pass through ``blocks``
    blocks of batch norm -> linear (``hidden`` units) -> ReLU and a final linear logit.
    Gaussian noise with standard deviation ``noise_std`` is added to the MLP's inputs in
    training mode only.

    Parameters
    ----------
    n_clinical : int
        Number of clinical features.
    hidden : int
        Width of each block.
    blocks : int
        Number of blocks.
    noise_std : float
        Standard deviation of the training-time input noise.
    """

    def __init__(
        self, n_clinical: int = 12, *, hidden: int = 64, blocks: int = 3, noise_std: float = 0.1
    ) -> None:
        super().__init__()
        if n_clinical < 1:
            raise ValueError(f"n_clinical must be at least 1, got {n_clinical!r}.")
        if blocks < 1 or hidden < 1:
            raise ValueError(f"blocks and hidden must be at least 1, got {blocks!r} and {hidden!r}.")
        if noise_std < 0:
            raise ValueError(f"noise_std must be 0 or more, got {noise_std!r}.")
        self.cnn = MaxPoolResNet()
        self.noise_std = float(noise_std)
        layers: list[nn.Module] = []
        width = FEATURE_CHANNELS + n_clinical
        for _ in range(blocks):
            layers += [nn.BatchNorm1d(width), nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor, clinical: torch.Tensor) -> JointOutput:
        ct = self.cnn(images)
        if clinical.ndim != 2 or clinical.shape[0] != images.shape[0]:
            raise ValueError(
                f"clinical must have shape ({images.shape[0]}, n_clinical), "
                f"got {tuple(clinical.shape)}."
            )
        inputs = torch.cat([ct.features, clinical.to(ct.features.dtype)], dim=1)
        if self.training and self.noise_std > 0:
            inputs = inputs + self.noise_std * torch.randn_like(inputs)
        return JointOutput(logit=self.mlp(inputs)[:, 0], ct=ct)


class SliceScorerCNN(nn.Module):
    """Small CNN that scores a lung-segmented slice for abnormality (logit, higher = abnormal).

    Four convolution blocks (16, 32, 64, 64 channels) with stride-2 pooling, then global
    max and average pooling and a linear layer. It is meant for inputs of about 128 px.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for width in (16, 32, 64, 64):
            layers += [
                nn.Conv2d(channels, width, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(2 * channels, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.features(images)
        pooled = torch.cat([torch.amax(x, dim=(2, 3)), x.mean(dim=(2, 3))], dim=1)
        return self.classifier(pooled)[:, 0]
