from django.urls import path

from apps.imaging import views

app_name = "imaging"

urlpatterns = [
    path("wado", views.wado, name="wado"),
    path("upload/", views.upload, name="upload"),
    path("imports/<int:job_id>/", views.job_detail, name="job"),
]
