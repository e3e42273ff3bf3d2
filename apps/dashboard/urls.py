from django.urls import path, register_converter

from apps.dashboard import views


class ExportExtension:
    regex = "csv|xlsx|tex|png|svg|imrmc"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExportExtension, "export_extension")

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("studies/<int:study_id>/", views.study_dashboard, name="study"),
    path("studies/<int:study_id>/panel/", views.study_panel, name="panel"),
    path(
        "studies/<int:study_id>/export/<slug:name>.<export_extension:extension>",
        views.export,
        name="export",
    ),
]
