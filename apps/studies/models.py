"""Reader studies, reader assignments and reads."""
from __future__ import annotations

import random

from django.conf import settings
from django.db import models

from apps.cases.models import Case


class ReaderStudy(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        CLOSED = "closed"

    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    seed = models.PositiveIntegerField(help_text="Seeds every reader's case order.")
    cases = models.ManyToManyField(Case, related_name="studies", blank=True)
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="coordinated_studies", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "reader studies"

    def __str__(self) -> str:
        return self.title


class Arm(models.Model):
    """A reading condition, for example unaided, and the data it shows the reader."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="arms")
    name = models.CharField(max_length=100)
    shows_clinical = models.BooleanField(default=True)
    shows_ai_probability = models.BooleanField(
        default=False, help_text="The reader sees the joint model's probability."
    )
    shows_heatmap = models.BooleanField(default=False, help_text="The reader sees the model's heat map.")
    ai_after_unaided_call = models.BooleanField(
        default=True,
        help_text="AI output appears only after the reader has locked an unaided call on the same case.",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="unique_arm_name")]

    def __str__(self) -> str:
        return f"{self.study} / {self.name}"


class Assignment(models.Model):
    """One reader in one arm of a study, with that reader's fixed case order."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="assignments")
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="assignments")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    case_order = models.JSONField(default=list, help_text="Case primary keys in reading order.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["arm", "reader"], name="unique_reader_per_arm"),
        ]

    def __str__(self) -> str:
        return f"{self.reader} in {self.arm}"

    def shuffle_cases(self) -> None:
        """Store a permutation of the study's cases seeded by study, arm and reader.

        The seed does not depend on the time or on the process, so the same
        assignment always gets the same order, and another reader another one.
        """
        case_ids = sorted(self.study.cases.values_list("pk", flat=True))
        rng = random.Random(f"{self.study.seed}:{self.arm_id}:{self.reader_id}")
        rng.shuffle(case_ids)
        self.case_order = case_ids


class CaseOpening(models.Model):
    """The first time a reader opened a case in an assignment; reading time starts here."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="openings")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "case"], name="unique_case_opening"),
        ]


class Read(models.Model):
    class Call(models.TextChoices):
        POSITIVE = "positive", "COVID-19 positive"
        NEGATIVE = "negative", "COVID-19 negative"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="reads")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reads")
    call = models.CharField(max_length=8, choices=Call.choices)
    confidence = models.PositiveSmallIntegerField(help_text="0–100, confidence in the call.")
    opened_at = models.DateTimeField()
    submitted_at = models.DateTimeField()
    reading_seconds = models.FloatField(help_text="Submitted minus opened.")
    active_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds the viewer tab was visible, as the browser counted."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "case"], name="one_read_per_case"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=100),
                name="confidence_0_100",
            ),
        ]

    @property
    def score(self) -> float:
        """Confidence mapped to a probability-like scale: 0 sure negative, 100 sure positive."""
        if self.call == self.Call.POSITIVE:
            return 50 + self.confidence / 2
        return 50 - self.confidence / 2
