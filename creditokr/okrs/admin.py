from django.contrib import admin
from django.http import HttpRequest

from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective


class KeyResultInline(admin.TabularInline[KeyResult, Objective]):
    model = KeyResult
    extra = 0
    fields = [
        "title",
        "owner",
        "kind",
        "unit",
        "start_value",
        "target_value",
        "due_date",
        "weight",
        "archived",
    ]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin[Objective]):
    list_display = ["title", "cycle", "team", "owner", "visibility", "archived"]
    list_filter = ["cycle", "team", "visibility", "archived"]
    search_fields = ["title"]
    inlines = [KeyResultInline]


@admin.register(KeyResult)
class KeyResultAdmin(admin.ModelAdmin[KeyResult]):
    list_display = ["title", "objective", "owner", "kind", "target_value", "archived"]
    list_filter = ["kind", "unit", "archived"]
    search_fields = ["title"]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin[CheckIn]):
    """Check-in history is append-only: readable here, never rewritten."""

    list_display = ["key_result", "value", "done", "as_of", "author", "created_at"]
    readonly_fields = [f.name for f in CheckIn._meta.fields]

    def has_change_permission(
        self, request: HttpRequest, obj: CheckIn | None = None
    ) -> bool:
        return False


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin[Initiative]):
    list_display = ["title", "objective", "assignee", "priority", "state", "due_date"]
    list_filter = ["priority", "state"]
