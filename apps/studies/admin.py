from django import forms
from django.contrib import admin, messages

from apps.studies import design
from apps.studies.models import Arm, Assignment, Read, ReaderStudy


class ArmInline(admin.TabularInline):
    model = Arm
    extra = 0


class ReaderStudyAdminForm(forms.ModelForm):
    class Meta:
        model = ReaderStudy
        fields = "__all__"

    def clean_status(self):
        new_status = self.cleaned_data["status"]
        if self.instance.pk and new_status != self.instance.status and not self.instance.can_change_status(new_status):
            raise forms.ValidationError(
                f"A {self.instance.status} study cannot become {new_status}; the order is draft, open, closed."
            )
        return new_status


@admin.register(ReaderStudy)
class ReaderStudyAdmin(admin.ModelAdmin):
    form = ReaderStudyAdminForm
    list_display = ("title", "status", "answer_scale", "navigation", "edit_rule", "washout_days", "created_at")
    list_filter = ("status",)
    filter_horizontal = ("cases", "training_cases", "coordinators")
    readonly_fields = ("copied_from",)
    inlines = [ArmInline]
    actions = ["copy_as_template"]

    @admin.action(description="Copy the selected studies as draft templates")
    def copy_as_template(self, request, queryset):
        for study in queryset:
            design.copy_study(study, by=request.user)
        self.message_user(request, f"Copied {queryset.count()} studies as drafts.", messages.SUCCESS)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("reader", "study", "arm")
    readonly_fields = ("case_order", "training_order")

    def save_model(self, request, obj, form, change):
        if not obj.case_order:
            obj.shuffle_cases()
        super().save_model(request, obj, form, change)


@admin.register(Read)
class ReadAdmin(admin.ModelAdmin):
    list_display = ("assignment", "case", "stage", "version", "is_current", "call", "confidence", "rating",
                    "submitted_at")
    list_filter = ("is_current", "stage", "is_training")

    # Reads are evidence: never added, edited or deleted here; corrections are new versions.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
