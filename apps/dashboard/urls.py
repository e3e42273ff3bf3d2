from django.urls import path

from apps.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("studies/<int:study_id>/", views.study_dashboard, name="study"),
]
