from __future__ import annotations

import pytest
import torch

from ml.networks import JointModel, MaxPoolResNet


def _region_detector() -> MaxPoolResNet:
    """Return a CT model whose region logit is the mean intensity of the region's input."""
    model = MaxPoolResNet().eval()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.weight[0, 0, 0, 0] = 1.0
        model.head.bias.fill_(-1.0)
    # Replace the backbone features by the input averaged over 32 x 32 regions.
    model.feature_map = lambda images: torch.nn.functional.avg_pool2d(images, 32).repeat(1, 512, 1, 1)
    return model


def test_logit_is_max_of_region_map():
    model = MaxPoolResNet().eval()
    with torch.no_grad():
        output = model(torch.rand(2, 1, 128, 128))
    assert output.logit_map.shape == (2, 4, 4)  # 128 px / 32
    assert torch.equal(output.logit, output.logit_map.amax(dim=(1, 2)))
    assert output.features.shape == (2, 512)


def test_positive_patch_anywhere_raises_image_score():
    model = _region_detector()
    blank = torch.zeros(1, 1, 128, 128)
    with torch.no_grad():
        baseline = model(blank).logit.item()
        for top, left in ((0, 0), (0, 96), (96, 0), (64, 32)):
            image = blank.clone()
            image[..., top : top + 32, left : left + 32] = 3.0
            output = model(image)
            assert output.logit.item() == baseline + 3.0
            # An average pool over the 16 regions would dilute the patch to 3/16.
            assert output.logit_map.mean().item() < output.logit.item() - 2.0


def test_joint_model_outputs_per_image():
    model = JointModel(12).eval()
    with torch.no_grad():
        output = model(torch.rand(3, 1, 64, 64), torch.rand(3, 12))
    assert output.logit.shape == (3,)
    assert output.ct.logit.shape == (3,)


def test_joint_model_noise_only_in_training():
    torch.manual_seed(0)
    model = JointModel(12, noise_std=1.0)
    images, clinical = torch.rand(4, 1, 64, 64), torch.rand(4, 12)
    model.eval()
    with torch.no_grad():
        first = model(images, clinical).logit
        second = model(images, clinical).logit
    assert torch.equal(first, second)
    model.train()
    with torch.no_grad():
        noisy = model(images, clinical).logit
        noisy_again = model(images, clinical).logit
    assert not torch.equal(noisy, noisy_again)


def test_joint_model_rejects_mismatched_clinical_batch():
    model = JointModel(12).eval()
    with pytest.raises(ValueError, match=r"clinical must have shape \(2, n_clinical\)"):
        model(torch.rand(2, 1, 64, 64), torch.rand(3, 12))
