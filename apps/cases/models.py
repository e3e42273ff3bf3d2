"""Cases, their clinical records and their ground truth.

Ground truth lives in its own table so that no reader-facing query or
serializer that starts from a case can reach it by accident.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models

# Crockford's base32 without I, L, O and U: readable aloud and hard to mistype.
_PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_public_id() -> str:
    return "C-" + "".join(secrets.choice(_PUBLIC_ID_ALPHABET) for _ in range(8))


def source_key(value: str) -> str:
    """Return a keyed hash of a source identifier (PatientID, SeriesInstanceUID).

    The hash lets a later CSV or a repeated import find the case without the
    database ever storing the identifier itself.
    """
    digest = hmac.new(settings.SECRET_KEY.encode(), value.strip().encode(), hashlib.sha256)
    return digest.hexdigest()


class Case(models.Model):
    class Split(models.TextChoices):
        TRAIN = "train", "train"
        TUNE = "tune", "tune"
        TEST = "test", "test"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    patient_key = models.CharField(
        max_length=64, db_index=True, help_text="Keyed hash of the source PatientID."
    )
    patient_age = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Years.")
    patient_sex = models.CharField(max_length=1, blank=True, choices=[("M", "male"), ("F", "female")])
    split = models.CharField(max_length=8, blank=True, choices=Split.choices)
    flags = models.JSONField(default=dict, blank=True, help_text="Subgroup flags, name -> bool.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["public_id"]

    def __str__(self) -> str:
        return self.public_id


class ClinicalRecord(models.Model):
    """The twelve clinical inputs; ``None`` means missing, never zero."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="clinical")
    age = models.FloatField(null=True, blank=True, help_text="Years.")
    sex = models.CharField(max_length=1, blank=True, choices=[("M", "male"), ("F", "female")])
    exposure = models.BooleanField(null=True, blank=True)
    fever = models.BooleanField(null=True, blank=True)
    cough = models.BooleanField(null=True, blank=True)
    sputum = models.BooleanField(null=True, blank=True, help_text="Cough with sputum.")
    temperature = models.FloatField(null=True, blank=True, help_text="°C.")
    wbc = models.FloatField(null=True, blank=True, help_text="White blood cells, 10^9/L.")
    neutrophils = models.FloatField(null=True, blank=True, help_text="10^9/L.")
    neutrophil_pct = models.FloatField(null=True, blank=True, help_text="%.")
    lymphocytes = models.FloatField(null=True, blank=True, help_text="10^9/L.")
    lymphocyte_pct = models.FloatField(null=True, blank=True, help_text="%.")
    illustrative = models.BooleanField(
        default=False, help_text="The values are made up for a demonstration, not measured."
    )

    FEATURES = (
        "age", "sex", "exposure", "fever", "cough", "sputum", "temperature",
        "wbc", "neutrophils", "neutrophil_pct", "lymphocytes", "lymphocyte_pct",
    )

    def as_features(self) -> dict[str, object]:
        values: dict[str, object] = {name: getattr(self, name) for name in self.FEATURES}
        values["sex"] = self.sex or None
        return values


class GroundTruth(models.Model):
    """RT-PCR result of a case, visible to coordinators and the statistics only."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="ground_truth")
    positive = models.BooleanField()
    source = models.CharField(max_length=200, blank=True, help_text="File or person that set it.")
    updated_at = models.DateTimeField(auto_now=True)
