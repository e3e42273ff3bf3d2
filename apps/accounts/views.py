from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from apps.accounts.roles import Role, roles_of


@login_required
def home(request):
    user_roles = roles_of(request.user)
    if user_roles == {Role.READER}:
        return redirect("studies:worklist")
    if user_roles == {Role.COORDINATOR}:
        return redirect("dashboard:index")
    if user_roles == {Role.REVIEWER}:
        return redirect("inference:review_list")
    return render(request, "home.html", {"roles": sorted(r.value for r in user_roles)})
