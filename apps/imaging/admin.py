from django.contrib import admin

from apps.imaging.models import ImportJob, Series


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("case", "modality", "slice_count", "rows", "columns", "slice_spacing")
    readonly_fields = ("series_key",)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "source_name", "status", "created_by", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("report", "error")
