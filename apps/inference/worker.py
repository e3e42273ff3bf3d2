"""Per-process state of a Celery worker: PyTorch threads and the loaded model packages.

With the prefork pool the parent process forks its children before they run any task.
PyTorch's thread pool does not survive a fork, and a model loaded in the parent would be
copied into every child. So the parent loads nothing. Each child sets its thread count when
it starts and loads a package the first time one of its tasks needs it.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from celery.signals import worker_process_init

from apps.inference import conf

if TYPE_CHECKING:
    # For types only: importing torch in every Django process would slow its start-up.
    from ml.package import ModelPackage

logger = logging.getLogger(__name__)

# (model version pk, package folder, manifest SHA-256) -> ModelPackage, filled lazily in the
# process that predicts.
_packages: dict[tuple[int, str, str], ModelPackage] = {}
_lock = threading.Lock()


@worker_process_init.connect
def configure_worker_process(**kwargs) -> None:
    """Set the PyTorch thread count of a new pool process and start it with no model loaded."""
    import torch

    torch.set_num_threads(conf.TORCH_THREADS)
    _packages.clear()
    logger.info("worker process ready with %d PyTorch thread(s)", conf.TORCH_THREADS)


def loaded_package_count() -> int:
    return len(_packages)


def get_package(model_version) -> tuple[ModelPackage, float]:
    """Return the loaded package of a model version and the seconds spent loading it now.

    The package is loaded once per process; later calls return it with 0 seconds.

    Raises
    ------
    ml.PackageError
        If a file fails its checksum or the weights do not fit the configuration, or the
        manifest changed since the version was registered.
    """
    from apps.inference.services import manifest_sha256
    from ml.package import PackageIntegrityError, load_package

    key = (model_version.pk, model_version.package_path, model_version.manifest_sha256)
    with _lock:
        package = _packages.get(key)
        if package is not None:
            return package, 0.0

        start = time.perf_counter()
        try:
            current = manifest_sha256(model_version.package_path)
        except FileNotFoundError:
            raise PackageIntegrityError(
                f"{model_version.package_path} has no manifest.json any more; restore the package "
                "folder or register the model again."
            ) from None
        if current != model_version.manifest_sha256:
            raise PackageIntegrityError(
                f"{model_version.package_path}/manifest.json has SHA-256 {current}, but model version "
                f"{model_version} was registered with {model_version.manifest_sha256}; the package "
                "changed after registration. Restore it or register it as a new version."
            )
        package = load_package(model_version.package_path)
        _packages[key] = package
        seconds = time.perf_counter() - start
    logger.info("loaded model version %s in %.1f s", model_version, seconds)
    return package, seconds
