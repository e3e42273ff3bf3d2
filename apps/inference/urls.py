from django.urls import path

from apps.inference import views

app_name = "inference"

urlpatterns = [
    path("", views.versions, name="versions"),
    path("versions/<int:version_id>/activate/", views.activate, name="activate"),
    path("versions/<int:version_id>/run/", views.run_version, name="run_version"),
    path("review/", views.review_list, name="review_list"),
    path("review/<str:public_id>/", views.review_case, name="review_case"),
    path(
        "predictions/<int:prediction_id>/heatmaps/<int:instance_index>.png",
        views.prediction_heatmap,
        name="prediction_heatmap",
    ),
    path(
        "reader/<int:assignment_id>/cases/<str:public_id>/heatmaps/<int:instance_index>.png",
        views.reader_heatmap,
        name="reader_heatmap",
    ),
]
