"""Settings switch database and broker through the environment."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.paths import REPO


def _settings_in_subprocess(env: dict[str, str], expression: str) -> str:
    code = f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); " \
           f"django.setup(); from django.conf import settings; print({expression})"
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**clean, **env},
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_defaults_need_no_server():
    engine = _settings_in_subprocess({}, "settings.DATABASES['default']['ENGINE']")
    broker = _settings_in_subprocess({}, "settings.CELERY_BROKER_URL")
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"


def test_environment_selects_postgres_and_redis():
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    assert _settings_in_subprocess(env, "settings.DATABASES['default']['ENGINE']") == "django.db.backends.postgresql"
    assert _settings_in_subprocess(env, "settings.CELERY_BROKER_URL") == "redis://127.0.0.1:6379/0"


def test_production_without_secret_key_fails_with_setting_name():
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env["DJANGO_DEBUG"] = "0"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
