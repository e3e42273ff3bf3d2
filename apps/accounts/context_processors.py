from apps.accounts.roles import Role, roles_of


def roles(request):
    user_roles = roles_of(request.user)
    return {
        "is_coordinator": Role.COORDINATOR in user_roles,
        "is_reader": Role.READER in user_roles,
        "is_reviewer": Role.REVIEWER in user_roles,
    }
