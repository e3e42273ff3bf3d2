from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from apps.accounts.roles import Role, roles_of


@login_required
def home(request):
    held = roles_of(request.user)
    if held == {Role.READER}:
        return redirect("studies:worklist")
    if held == {Role.COORDINATOR}:
        return redirect("dashboard:index")
    return render(request, "home.html", {"roles": sorted(r.value for r in held)})
