import pytest

AUDIT_MIDDLEWARE = "apps.audit.context.AuditRequestMiddleware"


@pytest.fixture(autouse=True)
def _audit_middleware(settings):
    """Install the audit middleware after authentication, as config/settings.py should."""
    if AUDIT_MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                          AUDIT_MIDDLEWARE)
        settings.MIDDLEWARE = middleware
