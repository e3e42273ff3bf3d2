from django.urls import path

from apps.studies import views

app_name = "studies"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("<int:assignment_id>/next/", views.next_case, name="next_case"),
    path("<int:assignment_id>/cases/<str:public_id>/", views.read_case, name="read_case"),
    path("<int:assignment_id>/cases/<str:public_id>/correct/", views.correct_read, name="correct_read"),
]
