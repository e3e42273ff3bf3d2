"""View decorators that check a role before any object-level check runs."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from apps.accounts.roles import Role, has_role


def role_required(role: Role):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied(f"This page is for users with the {role.value} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
