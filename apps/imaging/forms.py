from django import forms
from django.conf import settings

from apps.studies.models import ReaderStudy


class UploadForm(forms.Form):
    archive = forms.FileField(label="DICOM zip", help_text="A .zip of one or more CT series.")
    clinical = forms.FileField(
        label="Clinical CSV", required=False,
        help_text="Optional: patient_id, the 12 clinical features, rt_pcr, split and flag_ columns.",
    )
    study = forms.ModelChoiceField(
        queryset=ReaderStudy.objects.none(), required=False,
        help_text="Optional: add the imported cases to this draft study.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            # Cases can join a study only while it is a draft: an open study's reader orders are fixed.
            self.fields["study"].queryset = ReaderStudy.objects.filter(
                coordinators=user, status=ReaderStudy.Status.DRAFT
            )

    def clean_archive(self):
        archive = self.cleaned_data["archive"]
        if not archive.name.lower().endswith(".zip"):
            raise forms.ValidationError(
                f"'{archive.name}' is not a .zip file. Zip the DICOM folder and upload the .zip."
            )
        if archive.size > settings.READERSTUDY_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"'{archive.name}' is {archive.size / 1024**2:.0f} MiB, above the upload limit of "
                f"{settings.READERSTUDY_MAX_UPLOAD_BYTES / 1024**2:.0f} MiB. Use the import_cases command."
            )
        return archive

    def clean_clinical(self):
        clinical = self.cleaned_data.get("clinical")
        if clinical and not clinical.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(f"'{clinical.name}' is not a .csv file.")
        return clinical
