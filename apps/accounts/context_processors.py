from apps.accounts.roles import Role, roles_of


def roles(request):
    held = roles_of(request.user)
    return {
        "is_coordinator": Role.COORDINATOR in held,
        "is_reader": Role.READER in held,
        "is_reviewer": Role.REVIEWER in held,
    }
