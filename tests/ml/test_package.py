from __future__ import annotations

import json
import shutil

import pytest

from ml.package import (
    PackageConfigurationError,
    PackageIntegrityError,
    load_package,
    sha256_of,
)


@pytest.fixture
def package_copy(quick_package_dir, tmp_path):
    folder = tmp_path / "package"
    shutil.copytree(quick_package_dir, folder)
    return folder


def test_manifest_lists_checksums_and_configuration(quick_package_dir):
    manifest = json.loads((quick_package_dir / "manifest.json").read_text())
    for name in ("ct_model.pt", "joint_model.pt", "slice_scorer.pt", "clinical_model.pkl", "MODEL_CARD.md"):
        assert manifest["files"][name] == sha256_of(quick_package_dir / name)
    assert manifest["config"]["image_size"] == 64
    assert set(manifest["clinical"]["tuning_auc"]) == {"svm", "random_forest", "mlp"}
    assert "ct_model_test_slices" in manifest["metrics"]
    assert manifest["training_data"]["split"] == "slab"


def test_model_card_says_not_for_clinical_use(quick_package_dir):
    card = (quick_package_dir / "MODEL_CARD.md").read_text()
    assert "Not for clinical use" in card
    assert "DeLong" in card


def test_load_round_trips_weights(quick_package, quick_result):
    loaded = quick_package.ct_model.state_dict()
    for key, value in quick_result.ct_model.state_dict().items():
        if value.is_floating_point():
            # float16 storage keeps about three significant digits.
            assert (loaded[key] - value).abs().max().item() <= 1e-3 * max(1.0, value.abs().max().item()), key
        else:
            assert loaded[key].equal(value), key


def test_tampered_weights_rejected(package_copy):
    weights = package_copy / "joint_model.pt"
    content = bytearray(weights.read_bytes())
    content[-100] ^= 0xFF
    weights.write_bytes(bytes(content))
    with pytest.raises(PackageIntegrityError, match=r"joint_model\.pt has SHA-256"):
        load_package(package_copy)


def test_missing_file_rejected(package_copy):
    (package_copy / "clinical_model.pkl").unlink()
    with pytest.raises(PackageIntegrityError, match=r"clinical_model\.pkl is listed in the manifest but missing"):
        load_package(package_copy)


def test_configuration_mismatch_rejected(package_copy):
    manifest_path = package_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["config"]["joint_hidden"] = 32
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(PackageConfigurationError, match=r"joint_model\.pt does not match"):
        load_package(package_copy)


def test_unknown_configuration_key_rejected(package_copy):
    manifest_path = package_copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["config"]["depth"] = 50
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(PackageConfigurationError, match="Unknown model configuration keys"):
        load_package(package_copy)


def test_shipped_demo_package_loads():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "fixtures" / "model"
    package = load_package(folder)
    total_bytes = sum(path.stat().st_size for path in folder.iterdir())
    assert total_bytes < 50 * 1024 * 1024
    card = (folder / "MODEL_CARD.md").read_text()
    assert "Not for clinical use" in card
    assert "synthetic and illustrative" in card
    assert package.manifest["metrics"]["ct_model_test_slices"]["method"].startswith("DeLong")
