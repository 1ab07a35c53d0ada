from django.contrib import admin

from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective


class KeyResultInline(admin.TabularInline):
    model = KeyResult
    extra = 0
    fields = ["title", "owner", "kind", "unit", "start_value", "target_value", "due_date", "weight", "archived"]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "cycle", "team", "owner", "visibility", "archived"]
    list_filter = ["cycle", "team", "visibility", "archived"]
    search_fields = ["title"]
    inlines = [KeyResultInline]


@admin.register(KeyResult)
class KeyResultAdmin(admin.ModelAdmin):
    list_display = ["title", "objective", "owner", "kind", "target_value", "archived"]
    list_filter = ["kind", "unit", "archived"]
    search_fields = ["title"]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    """History is append-only: the admin can read check-ins, not rewrite them."""

    list_display = ["key_result", "value", "done", "as_of", "author", "created_at"]
    readonly_fields = [f.name for f in CheckIn._meta.fields]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["title", "objective", "assignee", "priority", "state", "due_date"]
    list_filter = ["priority", "state"]
