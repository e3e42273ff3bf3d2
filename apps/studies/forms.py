from django import forms

from apps.studies.models import Read


class ReadForm(forms.Form):
    call = forms.ChoiceField(
        choices=Read.Call.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose COVID-19 positive or negative."},
    )
    confidence = forms.IntegerField(
        min_value=0,
        max_value=100,
        error_messages={
            "required": "Set a confidence between 0 and 100.",
            "min_value": "Confidence must be between 0 and 100; %(limit_value)s is the minimum.",
            "max_value": "Confidence must be between 0 and 100; %(limit_value)s is the maximum.",
        },
    )
    active_seconds = forms.IntegerField(min_value=0, required=False)
