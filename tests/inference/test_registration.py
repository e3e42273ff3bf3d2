"""Registering model packages: checksums verified, manifest stored, one active version."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from apps.inference.models import ModelVersion
from apps.inference.services import (
    RegistrationError,
    activate_model_version,
    register_model_version,
)

pytestmark = pytest.mark.django_db


def test_register_stores_manifest_card_and_checksum(model_package_dir):
    version, created = register_model_version(model_package_dir)

    assert created
    expected = hashlib.sha256((model_package_dir / "manifest.json").read_bytes()).hexdigest()
    assert version.manifest_sha256 == expected
    assert version.version == expected[:12]
    assert set(version.manifest["files"]) >= {"ct_model.pt", "joint_model.pt", "clinical_model.pkl"}
    assert version.model_card == (model_package_dir / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert version.package_path == str(model_package_dir.resolve())
    assert not version.is_active


def test_register_same_package_twice_returns_first(model_package_dir):
    first, _ = register_model_version(model_package_dir)
    second, created = register_model_version(model_package_dir / "manifest.json", activate=True)

    assert not created
    assert second.pk == first.pk
    assert ModelVersion.objects.count() == 1
    assert ModelVersion.objects.get().is_active


def test_register_rejects_changed_file_by_name(model_package_dir, tmp_path):
    copy = shutil.copytree(model_package_dir, tmp_path / "package")
    (copy / "joint_model.pt").write_bytes(b"tampered")

    with pytest.raises(RegistrationError, match=r"joint_model\.pt has SHA-256 .* but the manifest expects"):
        register_model_version(copy)
    assert not ModelVersion.objects.exists()


def test_register_rejects_folder_without_manifest(tmp_path):
    with pytest.raises(RegistrationError, match="manifest.json not found"):
        register_model_version(tmp_path)


def _package_with_other_manifest(model_package_dir, folder):
    copy = shutil.copytree(model_package_dir, folder)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["metrics"] = {**manifest.get("metrics", {}), "note": "retrained"}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def test_one_active_version(model_package_dir, tmp_path):
    first, _ = register_model_version(model_package_dir, activate=True)
    copy = _package_with_other_manifest(model_package_dir, tmp_path / "package")
    second, _ = register_model_version(copy, name="other", version="2", activate=True)
    assert second.pk != first.pk

    first.refresh_from_db()
    assert not first.is_active
    activate_model_version(first)
    activate_model_version(first)

    second.refresh_from_db()
    assert not second.is_active
    assert list(ModelVersion.objects.filter(is_active=True)) == [first]


def test_same_label_with_other_manifest_rejected(model_package_dir, tmp_path):
    register_model_version(model_package_dir, version="1")
    copy = _package_with_other_manifest(model_package_dir, tmp_path / "package")

    with pytest.raises(RegistrationError, match="already registered with another manifest"):
        register_model_version(copy, version="1")


def test_active_version_switches(model_package_dir, tmp_path):
    first, _ = register_model_version(model_package_dir, activate=True)
    copy = _package_with_other_manifest(model_package_dir, tmp_path / "package")
    second, _ = register_model_version(copy, activate=True)

    first.refresh_from_db()
    assert not first.is_active
    assert list(ModelVersion.objects.filter(is_active=True)) == [second]


def test_command_registers_and_activates(model_package_dir, capsys):
    call_command("register_model", str(model_package_dir), "--activate", "--model-version", "demo-1")

    version = ModelVersion.objects.get()
    assert version.version == "demo-1"
    assert version.is_active
    assert "Registered covid19-ct-clinical demo-1" in capsys.readouterr().out


def test_command_reports_broken_package(model_package_dir, tmp_path):
    copy = shutil.copytree(model_package_dir, tmp_path / "package")
    (copy / "clinical_model.pkl").unlink()

    with pytest.raises(CommandError, match=r"clinical_model\.pkl is listed in the manifest but missing"):
        call_command("register_model", str(copy))


def test_file_names_match_ml_package():
    from apps.inference import services
    from ml import package

    assert services.MANIFEST_NAME == package.MANIFEST_NAME
    assert services.MODEL_CARD_NAME == package.MODEL_CARD_NAME
