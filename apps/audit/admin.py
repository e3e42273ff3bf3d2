from django.contrib import admin

from apps.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The log, read-only: no add, change or delete, single or bulk."""

    list_display = ("created_at", "actor_name", "ip_address", "action", "model", "object_id", "object_repr")
    list_filter = ("action", "model")
    search_fields = ("actor_name", "object_id", "object_repr")
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
