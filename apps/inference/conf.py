"""Settings of the inference app, read once with their defaults.

Each value may be set in Django settings; without it, the environment variable of the
same name is read, then the default applies.
"""
from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _int_setting(name: str, default: int, *, minimum: int) -> int:
    raw = getattr(settings, name, os.environ.get(name, default))
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer; set it to a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below {minimum}; set it to {minimum} or more.")
    return value


# PyTorch threads per worker process. Each prefork child runs one task at a time, so one
# thread per child and one child per core avoids oversubscribing the CPU.
TORCH_THREADS = _int_setting("READERSTUDY_TORCH_THREADS", 1, minimum=1)

# Seconds before a prediction is interrupted (soft) and its process killed (hard).
SOFT_TIME_LIMIT = _int_setting("READERSTUDY_INFERENCE_SOFT_TIME_LIMIT", 600, minimum=10)
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 60

# A prediction still running this long after its start has outlived the hard limit, so its
# process is gone. The extra minute covers clock skew between hosts.
STALE_AFTER_SECONDS = HARD_TIME_LIMIT + 60

# Starts of one prediction before it is marked failed instead of run again, so that a task
# whose process is killed every time (for example by the out-of-memory killer) stops.
MAX_ATTEMPTS = _int_setting("READERSTUDY_INFERENCE_MAX_ATTEMPTS", 3, minimum=1)

# Retries of a prediction after a database error, with exponential backoff.
MAX_RETRIES = 5


def task_queue() -> str | None:
    """Return the Celery queue that prediction tasks go to; None is Celery's default queue."""
    return getattr(settings, "READERSTUDY_INFERENCE_QUEUE", None) or os.environ.get(
        "READERSTUDY_INFERENCE_QUEUE"
    ) or None
