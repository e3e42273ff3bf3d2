from django.urls import path, reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from apps.api import views

app_name = "api"

router = DefaultRouter()
router.register("studies", views.StudyViewSet, basename="study")
router.register("cases", views.CaseViewSet, basename="case")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("reads", views.ReadViewSet, basename="read")


class OfflineSwaggerView(SpectacularSwaggerView):
    """Swagger UI with its files served by this app, so the page works without a CDN."""

    url_name = "api:schema"

    @staticmethod
    def _swagger_ui_resource(filename):
        return reverse("api:swagger-asset", args=[filename])

    @staticmethod
    def _swagger_ui_favicon():
        return reverse("api:swagger-asset", args=["favicon-32x32.png"])


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
    path("docs/", OfflineSwaggerView.as_view(permission_classes=[IsAuthenticated]), name="docs"),
    path("docs/assets/<str:filename>", views.SwaggerAssetView.as_view(), name="swagger-asset"),
    *router.urls,
]
