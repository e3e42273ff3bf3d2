from django.contrib import admin

from apps.studies.models import Arm, Assignment, Read, ReaderStudy


class ArmInline(admin.TabularInline):
    model = Arm
    extra = 0


@admin.register(ReaderStudy)
class ReaderStudyAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "created_at")
    filter_horizontal = ("cases", "coordinators")
    inlines = [ArmInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("reader", "study", "arm")
    readonly_fields = ("case_order",)

    def save_model(self, request, obj, form, change):
        if not obj.case_order:
            obj.shuffle_cases()
        super().save_model(request, obj, form, change)


@admin.register(Read)
class ReadAdmin(admin.ModelAdmin):
    list_display = ("assignment", "case", "call", "confidence", "submitted_at", "reading_seconds")

    def has_change_permission(self, request, obj=None):
        # Reads are evidence; they are never edited in place.
        return False
