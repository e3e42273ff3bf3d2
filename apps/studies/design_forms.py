"""Forms of the coordinator's study design pages."""
from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from apps.accounts.roles import Role
from apps.cases.models import Case
from apps.studies.models import Arm, ReaderStudy

MAX_TRUTH_CSV_BYTES = 5 * 1024**2


class StudyForm(forms.ModelForm):
    seed = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False,
        help_text="Seeds every reader's case order; left empty, a random seed is drawn and stored.",
    )

    class Meta:
        model = ReaderStudy
        fields = ["title", "instructions", "answer_scale", "navigation", "edit_rule", "washout_days", "seed"]


class StudyTextForm(forms.ModelForm):
    """The study fields that may change after it opens: the wording, never the rules."""

    class Meta:
        model = ReaderStudy
        fields = ["title", "instructions"]


class CasesForm(forms.Form):
    cases = forms.ModelMultipleChoiceField(queryset=Case.objects.all(), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    training_cases = forms.ModelMultipleChoiceField(
        queryset=Case.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Read first by every reader and never scored.",
    )

    def clean(self):
        cleaned = super().clean()
        both = set(cleaned.get("cases") or []) & set(cleaned.get("training_cases") or [])
        if both:
            names = ", ".join(sorted(case.public_id for case in both))
            raise forms.ValidationError(f"Cases {names} are chosen as study and training cases; choose one role each.")
        return cleaned


class ArmForm(forms.ModelForm):
    class Meta:
        model = Arm
        fields = ["name", "position", "shows_ct", "shows_clinical", "shows_ai_probability", "shows_heatmap",
                  "ai_after_unaided_call"]

    def __init__(self, *args, study: ReaderStudy, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.study = study

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Arm.objects.filter(study=self.instance.study, name=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"The study already has an arm named '{name}'; choose another name.")
        return name


class AssignForm(forms.Form):
    reader = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    arm = forms.ModelChoiceField(queryset=Arm.objects.none(), required=False,
                                 help_text="Left empty, the reader is assigned to every arm.")

    def __init__(self, *args, study: ReaderStudy, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reader"].queryset = get_user_model().objects.filter(groups__name=Role.READER.value).order_by("username")
        self.fields["arm"].queryset = study.arms.all()


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ReaderStudy.Status.choices)


class TruthUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV with public_id or patient_id, and rt_pcr (positive or negative).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_TRUTH_CSV_BYTES:
            raise forms.ValidationError(
                f"The file has {upload.size} bytes; a truth CSV may have at most {MAX_TRUTH_CSV_BYTES} bytes."
            )
        return upload
