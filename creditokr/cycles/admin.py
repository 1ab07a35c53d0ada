from django.contrib import admin

from creditokr.cycles.models import CadenceEvent, Cycle


class CadenceEventInline(admin.TabularInline[CadenceEvent, Cycle]):
    model = CadenceEvent
    extra = 0


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin[Cycle]):
    list_display = ["name", "kind", "start_date", "end_date", "state"]
    list_filter = ["kind", "state"]
    inlines = [CadenceEventInline]
