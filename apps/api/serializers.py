"""Serializers: each reader-facing one is an allow-list of fields for the reader's arm."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework import serializers

from apps.cases.models import Case, GroundTruth
from apps.studies import services
from apps.studies.models import MAX_ACTIVE_SECONDS, MAX_WASHOUT_DAYS, Arm, Assignment, Read, ReaderStudy
from apps.studies.presenters import clinical_rows


class ArmSerializer(serializers.ModelSerializer):
    is_sequential = serializers.BooleanField(read_only=True)

    class Meta:
        model = Arm
        fields = ["id", "name", "position", "shows_ct", "shows_clinical", "shows_ai_probability", "shows_heatmap",
                  "ai_after_unaided_call", "is_sequential"]


class StudySerializer(serializers.ModelSerializer):
    """The full design, for the study's coordinators."""

    cases = serializers.SlugRelatedField(
        slug_field="public_id", many=True, queryset=Case.objects.all(), required=False,
        help_text="Every case of the study, training cases included.",
    )
    training_cases = serializers.SlugRelatedField(slug_field="public_id", many=True, queryset=Case.objects.all(),
                                                  required=False)
    arms = ArmSerializer(many=True, read_only=True)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    washout_days = serializers.IntegerField(
        min_value=0, max_value=MAX_WASHOUT_DAYS, required=False,
        help_text=f"Days between a reader's last read in one arm and the start of the next arm; 0 to {MAX_WASHOUT_DAYS}.",
        error_messages={
            "min_value": "washout_days must be 0 or more.",
            "max_value": f"washout_days may be at most {MAX_WASHOUT_DAYS} (ten years); send a shorter washout.",
        },
    )

    class Meta:
        model = ReaderStudy
        fields = ["id", "title", "instructions", "status", "seed", "answer_scale", "navigation", "edit_rule",
                  "washout_days", "cases", "training_cases", "arms", "copied_from", "created_at"]
        read_only_fields = ["status", "copied_from", "created_at"]

    def save(self, **kwargs):
        # Training cases are cases of the study too, so that access checks through cases cover them.
        study = super().save(**kwargs)
        study.cases.add(*study.training_cases.all())
        return study


class ReaderStudySerializer(serializers.ModelSerializer):
    """A reader's view of a study: its wording and rules, never its cases or other readers."""

    class Meta:
        model = ReaderStudy
        fields = ["id", "title", "instructions", "status", "answer_scale", "navigation", "edit_rule"]
        read_only_fields = fields


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReaderStudy.Status.choices)


class CopySerializer(serializers.Serializer):
    include_readers = serializers.BooleanField(default=True)


class AssignReaderSerializer(serializers.Serializer):
    reader = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())
    arm = serializers.IntegerField(required=False, help_text="Arm id; without it the reader gets every arm.")


class TruthSerializer(serializers.ModelSerializer):
    case = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = GroundTruth
        fields = ["case", "positive", "source", "updated_at"]


class TruthUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with public_id or patient_id, and rt_pcr.")


class CaseSerializer(serializers.ModelSerializer):
    """A case for coordinators and reviewers; no truth, no source identifiers."""

    slices = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["public_id", "patient_age", "patient_sex", "split", "flags", "slices", "created_at"]

    def get_slices(self, case: Case) -> int:
        from apps.imaging.models import Instance

        return Instance.objects.filter(series__case=case).count()


class AssignmentSerializer(serializers.ModelSerializer):
    study = serializers.PrimaryKeyRelatedField(read_only=True)
    study_title = serializers.CharField(source="study.title", read_only=True)
    arm = ArmSerializer(read_only=True)
    reader = serializers.CharField(source="reader.username", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = ["id", "study", "study_title", "arm", "reader", "progress", "created_at"]

    def get_progress(self, assignment: Assignment) -> dict[str, int]:
        progress = services.progress(assignment)
        return {"done": progress.done, "total": progress.total}


class ReaderCaseSerializer(serializers.Serializer):
    """One case of an assignment, as its arm allows the reader to see it."""

    public_id = serializers.CharField()
    training = serializers.BooleanField()
    position = serializers.IntegerField()
    pending_stage = serializers.CharField(allow_null=True)
    clinical = serializers.JSONField(allow_null=True)
    image_urls = serializers.ListField(child=serializers.CharField())

    @staticmethod
    def build(assignment: Assignment, case: Case, request, *, position: int, detail: bool) -> dict:
        from apps.imaging.models import Instance
        from apps.studies.views import instance_query

        arm = assignment.arm
        data = {
            "public_id": case.public_id,
            "training": case.pk in assignment.training_order,
            "position": position,
            "pending_stage": services.pending_stage(assignment, case),
            "clinical": None,
            "image_urls": [],
        }
        if detail and arm.shows_clinical:
            rows = clinical_rows(case)
            if rows is not None:
                data["clinical"] = {"rows": [list(row) for row in rows["rows"]], "illustrative": rows["illustrative"]}
        if detail and arm.shows_ct:
            wado = request.build_absolute_uri(reverse("imaging:wado"))
            instances = Instance.objects.filter(series__case=case).select_related("series").order_by("-index")
            data["image_urls"] = [f"{wado}?{instance_query(instance)}" for instance in instances]
        return data


class ReadSerializer(serializers.ModelSerializer):
    case = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    reader = serializers.CharField(source="assignment.reader.username", read_only=True)

    class Meta:
        model = Read
        fields = ["id", "assignment", "reader", "case", "stage", "is_final", "is_training", "call", "confidence",
                  "rating", "version", "is_current", "supersedes", "correction_reason", "opened_at",
                  "submitted_at", "reading_seconds", "active_seconds"]
        read_only_fields = fields


class AnswerFields(serializers.Serializer):
    call = serializers.ChoiceField(choices=Read.Call.choices, required=False, allow_blank=True, default="")
    confidence = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True, default=None)
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True, default=None)
    active_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_ACTIVE_SECONDS, required=False, allow_null=True, default=None,
        help_text=f"Seconds the viewer tab was visible; 0 to {MAX_ACTIVE_SECONDS} (seven days).",
        error_messages={
            "min_value": "active_seconds must be 0 or more.",
            "max_value": f"active_seconds may be at most {MAX_ACTIVE_SECONDS} (seven days); send the seconds the tab was visible.",
        },
    )

    def answer(self) -> services.Answer:
        data = self.validated_data
        return services.Answer(call=data["call"], confidence=data["confidence"], rating=data["rating"])


class ReadCreateSerializer(AnswerFields):
    assignment = serializers.IntegerField()
    case = serializers.CharField(help_text="The case's public id.")
    stage = serializers.ChoiceField(choices=Read.Stage.choices, required=False, allow_null=True, default=None)


class CorrectionSerializer(AnswerFields):
    reason = serializers.CharField(max_length=1000)
