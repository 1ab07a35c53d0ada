from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from creditokr.cycles.models import CadenceEvent, Cycle
from creditokr.cycles.services import bump_sequence_if_moved


class CadenceEventInline(admin.TabularInline[CadenceEvent, Cycle]):
    model = CadenceEvent
    extra = 0
    readonly_fields = ["sequence", "cancelled_at"]


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin[Cycle]):
    list_display = ["name", "kind", "start_date", "end_date", "state"]
    list_filter = ["kind", "state"]
    inlines = [CadenceEventInline]

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        """A meeting moved here is newer for subscribed calendars too."""
        if formset.model is not CadenceEvent:
            super().save_formset(request, form, formset, change)
            return
        for event in formset.save(commit=False):
            bump_sequence_if_moved(event)
            event.save()
        for event in formset.deleted_objects:
            event.delete()
