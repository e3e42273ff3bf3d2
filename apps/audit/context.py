"""The request behind the current change, so that audit events name the user and address."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _current_request.get()


@contextmanager
def request_context(request: HttpRequest):
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


class AuditRequestMiddleware:
    """Makes the request available to the audit signal handlers for its duration.

    The user is read from the request when an event is written, not here, so
    that token authentication done later by Django REST framework is seen.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_context(request):
            return self.get_response(request)
