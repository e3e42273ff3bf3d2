"""Role checks for the API; object access is enforced by each view's queryset."""
from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.accounts.roles import Role, roles_of


class HasAnyRole(BasePermission):
    """Admits authenticated users holding at least one of the view's ``allowed_roles``."""

    message = "Your account has none of the roles this endpoint serves."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        allowed = getattr(view, "allowed_roles", ())
        user_roles = roles_of(request.user)
        if not user_roles & set(allowed):
            self.message = (
                f"This endpoint is for users with the {' or '.join(role.value for role in allowed)} role."
            )
            return False
        return True


def is_coordinator(user) -> bool:
    return Role.COORDINATOR in roles_of(user)


def is_reader(user) -> bool:
    return Role.READER in roles_of(user)
