from django import forms

from apps.studies.models import MAX_ACTIVE_SECONDS, Read, ReaderStudy


class ReadForm(forms.Form):
    """The reader's answer; which fields are required depends on the study's answer scale."""

    call = forms.ChoiceField(
        choices=Read.Call.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    confidence = forms.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        error_messages={
            "min_value": "Confidence must be between 0 and 100; %(limit_value)s is the minimum.",
            "max_value": "Confidence must be between 0 and 100; %(limit_value)s is the maximum.",
        },
    )
    rating = forms.IntegerField(
        min_value=1,
        max_value=5,
        required=False,
        error_messages={
            "min_value": "The rating must be between 1 and 5; %(limit_value)s is the minimum.",
            "max_value": "The rating must be between 1 and 5; %(limit_value)s is the maximum.",
        },
    )
    stage = forms.ChoiceField(choices=Read.Stage.choices, required=False, widget=forms.HiddenInput)
    active_seconds = forms.IntegerField(
        min_value=0,
        max_value=MAX_ACTIVE_SECONDS,
        required=False,
        error_messages={
            "min_value": "Active seconds must be 0 or more.",
            "max_value": "Active seconds may be at most %(limit_value)s (seven days).",
        },
    )

    def __init__(self, *args, study: ReaderStudy, **kwargs):
        super().__init__(*args, **kwargs)
        self.study = study

    def clean(self):
        cleaned = super().clean()
        if self.study.answer_scale == ReaderStudy.AnswerScale.LIKERT:
            if cleaned.get("rating") is None and "rating" not in self.errors:
                self.add_error("rating", "Choose a rating from 1 (definitely negative) to 5 (definitely positive).")
        else:
            if not cleaned.get("call") and "call" not in self.errors:
                self.add_error("call", "Choose COVID-19 positive or negative.")
            if cleaned.get("confidence") is None and "confidence" not in self.errors:
                self.add_error("confidence", "Set a confidence between 0 and 100.")
        return cleaned


class CorrectionForm(ReadForm):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason for the correction; it is kept with the new version."},
    )
