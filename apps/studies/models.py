"""Reader studies, their arms and rules, reader assignments and reads."""
from __future__ import annotations

import random

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from apps.cases.models import Case

# Ten years. Reader-study washouts are usually weeks, and this bound keeps the washout's end
# far inside the range of datetime, which ends in the year 9999.
MAX_WASHOUT_DAYS = 3650
# Seven days. The browser counts the seconds one case's tab was visible, so a larger value is a client error.
MAX_ACTIVE_SECONDS = 7 * 24 * 3600


class ReaderStudy(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        CLOSED = "closed"

    class AnswerScale(models.TextChoices):
        CALL_CONFIDENCE = "call_confidence", "COVID-19 call with a 0–100 confidence"
        LIKERT = "likert5", "1–5 scale, 1 definitely negative to 5 definitely positive"

    class Navigation(models.TextChoices):
        FORWARD = "forward", "Forward only: cases in the assigned order, no going back"
        FREE = "free", "Free: any assigned case, in any order"

    class EditRule(models.TextChoices):
        LOCKED = "locked", "Locked once submitted"
        CORRECTABLE = "correctable", "Correctable, with a reason; earlier versions are kept"

    # Allowed status changes: draft to open to closed. A draft is opened before it closes,
    # and a closed study stays closed so its reads stay frozen.
    TRANSITIONS = {
        Status.DRAFT: {Status.OPEN},
        Status.OPEN: {Status.CLOSED},
        Status.CLOSED: set(),
    }

    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    seed = models.PositiveIntegerField(help_text="Seeds every reader's case order.")
    cases = models.ManyToManyField(Case, related_name="studies", blank=True)
    training_cases = models.ManyToManyField(
        Case, related_name="training_studies", blank=True,
        help_text=(
            "Cases of the study shown to every reader before the others; their reads are not scored. "
            "They are also in cases, so that every access check that goes through cases covers them."
        ),
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="coordinated_studies", blank=True
    )
    answer_scale = models.CharField(
        max_length=16, choices=AnswerScale.choices, default=AnswerScale.CALL_CONFIDENCE
    )
    navigation = models.CharField(max_length=8, choices=Navigation.choices, default=Navigation.FORWARD)
    edit_rule = models.CharField(max_length=12, choices=EditRule.choices, default=EditRule.LOCKED)
    washout_days = models.PositiveSmallIntegerField(
        default=0,
        help_text=f"Days a reader must wait after finishing one arm before starting the next arm; at most {MAX_WASHOUT_DAYS}.",
        validators=[
            MaxValueValidator(
                MAX_WASHOUT_DAYS,
                message=f"The washout may be at most {MAX_WASHOUT_DAYS} days (ten years); enter a shorter washout.",
            )
        ],
    )
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies",
        help_text="The study this one was copied from as a template.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "reader studies"

    def __str__(self) -> str:
        return self.title

    def can_change_status(self, new_status: str) -> bool:
        return new_status in self.TRANSITIONS[self.Status(self.status)]


class Arm(models.Model):
    """A reading condition, for example unaided, and the data it shows the reader."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="arms")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(
        default=0,
        help_text="Order in which a reader takes the arms; the washout applies between positions.",
    )
    shows_ct = models.BooleanField(default=True, help_text="The reader sees the CT series.")
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
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.study} / {self.name}"

    @property
    def shows_ai(self) -> bool:
        return self.shows_ai_probability or self.shows_heatmap

    @property
    def is_sequential(self) -> bool:
        """Whether each case takes an unaided call first and an aided call after the AI output."""
        return self.shows_ai and self.ai_after_unaided_call

    @property
    def stages(self) -> list[str]:
        """Read stages a case needs in this arm, in order; the last one completes the case."""
        if self.is_sequential:
            return [Read.Stage.UNAIDED, Read.Stage.AIDED]
        if self.shows_ai:
            return [Read.Stage.AIDED]
        return [Read.Stage.UNAIDED]


class Assignment(models.Model):
    """One reader in one arm of a study, with that reader's fixed case order."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="assignments")
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="assignments")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    case_order = models.JSONField(default=list, help_text="Case primary keys in reading order.")
    training_order = models.JSONField(
        default=list, blank=True, help_text="Training case primary keys, read before the study cases."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["arm", "reader"], name="unique_reader_per_arm"),
        ]

    def __str__(self) -> str:
        return f"{self.reader} in {self.arm}"

    def clean(self) -> None:
        if self.arm_id and self.study_id and self.arm.study_id != self.study_id:
            raise ValidationError({"arm": f"Arm '{self.arm.name}' belongs to another study; choose an arm of this study."})

    def shuffle_cases(self) -> None:
        """Store a permutation of the study's cases seeded by study, arm and reader.

        The seed does not depend on the time or on the process, so the same
        assignment always gets the same order, and another reader another one.
        Training cases come first, in the same order for every reader.
        """
        training_ids = sorted(self.study.training_cases.values_list("pk", flat=True))
        case_ids = sorted(self.study.cases.exclude(pk__in=training_ids).values_list("pk", flat=True))
        rng = random.Random(f"{self.study.seed}:{self.arm_id}:{self.reader_id}")
        rng.shuffle(case_ids)
        self.case_order = case_ids
        self.training_order = training_ids


class CaseOpening(models.Model):
    """The first time a reader opened a case in an assignment; reading time starts here."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="openings")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "case"], name="unique_case_opening"),
        ]


class ReadQuerySet(models.QuerySet):
    def current(self) -> ReadQuerySet:
        """Reads not superseded by a correction."""
        return self.filter(is_current=True)

    def scored(self) -> ReadQuerySet:
        """Current reads that enter the statistics: the final stage of study cases, no training."""
        return self.current().filter(is_training=False, is_final=True)


class Read(models.Model):
    """One version of a reader's answer on a case; a correction adds a version and keeps this one."""

    class Call(models.TextChoices):
        POSITIVE = "positive", "COVID-19 positive"
        NEGATIVE = "negative", "COVID-19 negative"

    class Stage(models.TextChoices):
        UNAIDED = "unaided", "before any AI output"
        AIDED = "aided", "with the AI output"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="reads")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reads")
    stage = models.CharField(max_length=8, choices=Stage.choices, default=Stage.UNAIDED)
    is_final = models.BooleanField(
        default=True, help_text="The stage that completes the case in its arm."
    )
    is_training = models.BooleanField(default=False, help_text="A training case; never scored.")
    call = models.CharField(max_length=8, choices=Call.choices, blank=True)
    confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0–100, confidence in the call."
    )
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1–5, from definitely negative to definitely positive."
    )
    opened_at = models.DateTimeField()
    submitted_at = models.DateTimeField()
    reading_seconds = models.FloatField(help_text="Submitted minus opened.")
    active_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds the viewer tab was visible, as the browser counted.",
        validators=[
            MaxValueValidator(
                MAX_ACTIVE_SECONDS,
                message=f"Active seconds may be at most {MAX_ACTIVE_SECONDS} (seven days); send the seconds the tab was visible.",
            )
        ],
    )
    version = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.TextField(blank=True)

    objects = ReadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "case", "stage"],
                condition=models.Q(is_current=True),
                name="one_current_read_per_stage",
            ),
            models.UniqueConstraint(
                fields=["assignment", "case", "stage", "version"], name="unique_read_version"
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=100),
                name="confidence_0_100",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1) & models.Q(rating__lte=5),
                name="rating_1_5",
            ),
        ]

    def save(self, *args, **kwargs):
        # A read is evidence: a correction is a new version (see services.correct_read),
        # and only the is_current flag of the old version changes, through a queryset update.
        if not self._state.adding:
            raise ValueError(f"Read {self.pk} is stored and cannot be changed; submit a correction instead.")
        super().save(*args, **kwargs)

    @property
    def score(self) -> float:
        """The answer on a 0–100 scale: 0 sure negative, 100 sure positive."""
        if self.rating is not None:
            return (self.rating - 1) * 25.0
        if self.call == self.Call.POSITIVE:
            return 50 + self.confidence / 2
        return 50 - self.confidence / 2

    @property
    def answer_display(self) -> str:
        if self.rating is not None:
            return f"{self.rating} on the 1–5 scale"
        return f"{self.get_call_display()} with confidence {self.confidence}"
