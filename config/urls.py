from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from apps.accounts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("imaging/", include("apps.imaging.urls")),
    path("reader/", include("apps.studies.urls")),
    path("dashboard/", include("apps.dashboard.urls")),
    path("studies/", include("apps.studies.design_urls")),
    path("inference/", include("apps.inference.urls")),
    path("api/", include("apps.api.urls")),
]
