from django.urls import path

from apps.studies import design_views as views

app_name = "design"

urlpatterns = [
    path("", views.study_list, name="list"),
    path("new/", views.study_create, name="create"),
    path("<int:study_id>/", views.study_detail, name="detail"),
    path("<int:study_id>/cases/", views.study_cases, name="cases"),
    path("<int:study_id>/arms/", views.arm_add, name="arm_add"),
    path("<int:study_id>/arms/<int:arm_id>/delete/", views.arm_delete, name="arm_delete"),
    path("<int:study_id>/readers/", views.reader_assign, name="assign"),
    path("<int:study_id>/status/", views.study_status, name="status"),
    path("<int:study_id>/copy/", views.study_copy, name="copy"),
    path("<int:study_id>/truth/", views.truth_upload, name="truth"),
    path("<int:study_id>/reads.csv", views.reads_export, name="reads_export"),
    path("<int:study_id>/audit.csv", views.audit_export, name="audit_export"),
]
