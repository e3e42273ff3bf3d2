"""De-identified CT series stored slice by slice, and the jobs that import them."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.cases.models import Case


class Series(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="series")
    series_key = models.CharField(
        max_length=64, unique=True, help_text="Keyed hash of the source SeriesInstanceUID."
    )
    study_instance_uid = models.CharField(max_length=64, help_text="New UID given at import.")
    series_instance_uid = models.CharField(max_length=64, unique=True, help_text="New UID given at import.")
    modality = models.CharField(max_length=16)
    rows = models.PositiveIntegerField()
    columns = models.PositiveIntegerField()
    pixel_spacing_row = models.FloatField(help_text="mm between rows.")
    pixel_spacing_column = models.FloatField(help_text="mm between columns.")
    slice_spacing = models.FloatField(help_text="mm between slice centres along the normal.")
    orientation = models.JSONField(help_text="ImageOrientationPatient, six direction cosines.")
    slice_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"


class Instance(models.Model):
    """One slice; ``index`` 0 is the lowest position along the slice normal."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="instances")
    index = models.PositiveIntegerField()
    sop_instance_uid = models.CharField(max_length=64, unique=True)
    position = models.FloatField(help_text="mm along the slice normal.")
    file = models.FileField(upload_to="dicom/", max_length=255)

    class Meta:
        ordering = ["series", "index"]
        constraints = [
            models.UniqueConstraint(fields=["series", "index"], name="unique_slice_index"),
        ]


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_name = models.CharField(max_length=255, help_text="Uploaded file name or folder.")
    source_path = models.CharField(max_length=1024, help_text="Where the upload was saved.")
    clinical_path = models.CharField(max_length=1024, blank=True)
    study = models.ForeignKey(
        "studies.ReaderStudy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
