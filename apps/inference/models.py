"""Registered AI model versions and their predictions per case."""
from __future__ import annotations

from django.db import models

from apps.cases.models import Case


class ModelVersion(models.Model):
    """A model package (weights, manifest, model card) registered with its checksum."""

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    package_path = models.CharField(max_length=1024, help_text="Folder of the model package.")
    manifest_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the manifest at registration.")
    manifest = models.JSONField(default=dict, help_text="Configuration, training-data summary, metrics.")
    model_card = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_model_version"),
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_model_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Prediction(models.Model):
    """One model version's outputs for one case: P1 (CT), P2 (clinical), P3 (joint)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    p1 = models.FloatField(null=True, blank=True, help_text="CT model P(COVID-19).")
    p2 = models.FloatField(null=True, blank=True, help_text="Clinical model P(COVID-19).")
    p3 = models.FloatField(null=True, blank=True, help_text="Joint model P(COVID-19).")
    selected_slices = models.JSONField(default=list, blank=True, help_text="Instance indices, most abnormal first.")
    slice_scores = models.JSONField(default=dict, blank=True, help_text="Instance index -> abnormality score.")
    slice_probabilities = models.JSONField(
        default=dict, blank=True, help_text="Selected instance index -> CT model P(COVID-19) of that slice."
    )
    heatmap_file = models.FileField(upload_to="heatmaps/", blank=True, max_length=255)
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per stage.")
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker started this prediction; a lost worker's task starts again."
    )
    worker_host = models.CharField(max_length=255, blank=True, help_text="Host of the latest attempt.")
    worker_pid = models.PositiveIntegerField(null=True, blank=True, help_text="Process of the latest attempt.")
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "model_version"], name="one_prediction_per_case_and_model"),
        ]

    def __str__(self) -> str:
        return f"{self.case} by {self.model_version}: {self.status}"
