from django.contrib import admin

from apps.cases.models import Case, ClinicalRecord, GroundTruth


class ClinicalInline(admin.StackedInline):
    model = ClinicalRecord
    extra = 0


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("public_id", "patient_age", "patient_sex", "split", "created_at")
    list_filter = ("split",)
    search_fields = ("public_id",)
    readonly_fields = ("public_id", "patient_key")
    inlines = [ClinicalInline]


@admin.register(GroundTruth)
class GroundTruthAdmin(admin.ModelAdmin):
    list_display = ("case", "positive", "source", "updated_at")
