"""The change history in the admin: superusers read it; nobody edits it.

Every row is what happened, so none is added, changed or deleted here, not
even by a superuser. Staff who are not superusers do not see it at all:
it covers team-only objectives, which only their teams and administrators
may read (they read it in the app, filtered for them).
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from creditokr.activity.models import ChangeRecord
from creditokr.activity.wording import describe

# django-auditlog registers its own admin for the log model; this one
# replaces it.
if admin.site.is_registered(ChangeRecord):
    admin.site.unregister(ChangeRecord)


def _is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin[ChangeRecord]):
    list_display = ["timestamp", "sentence", "reason", "team"]
    list_filter = ["content_type", "action", "team"]
    list_select_related = ["actor", "content_type", "team"]
    search_fields = ["object_repr", "reason", "actor__username", "actor__first_name"]
    date_hierarchy = "timestamp"
    ordering = ["-timestamp", "-pk"]
    fields = [
        "timestamp",
        "sentence",
        "actor",
        "content_type",
        "object_pk",
        "object_repr",
        "action",
        "changes",
        "reason",
        "objective",
        "key_result",
        "team",
        "team_only",
        "subject",
        "additional_data",
        "remote_addr",
    ]
    readonly_fields = list(fields)  # type: ignore[arg-type]

    @admin.display(description="Change")
    def sentence(self, record: ChangeRecord) -> str:
        return describe(record)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeRecord]:
        return super().get_queryset(request).select_related("actor", "content_type")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request)

    def has_view_permission(
        self, request: HttpRequest, obj: ChangeRecord | None = None
    ) -> bool:
        return _is_superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ChangeRecord | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ChangeRecord | None = None
    ) -> bool:
        return False
