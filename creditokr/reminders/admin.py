"""The admin for reminders: rules, settings and the delivery log.

Deliveries are for administrators (superusers) only: they hold people's
messages. They are read-only here, except for "Retry now".
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from creditokr.reminders.models import (
    Delivery,
    DeliveryAttempt,
    ReminderRule,
    ReminderSettings,
    Status,
)


def is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin[ReminderRule]):
    list_display = ["__str__", "scope", "enabled", "frequency", "time_of_day"]
    list_filter = ["scope", "frequency", "enabled"]
    raw_id_fields = ["key_result"]


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin[ReminderSettings]):
    list_display = ["__str__", "deadline_days_before", "notice_time", "digest_time"]


class AttemptInline(admin.TabularInline[DeliveryAttempt, Delivery]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "worker", "started_at", "finished_at", "outcome", "error"]
    readonly_fields = ["number", "worker", "started_at", "finished_at", "outcome"]
    readonly_fields += ["error"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = [
        "created_at",
        "recipient",
        "kind",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["recipient__username", "recipient__email", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    inlines = [AttemptInline]
    actions = ["retry_now"]
    readonly_fields = [
        field.name for field in Delivery._meta.fields if field.name != "id"
    ]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Retry now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        """Send failed or given-up deliveries again at the next pass.

        A delivery that was given up starts a fresh round of attempts; the
        attempts so far stay in its log.
        """
        retried = queryset.filter(status__in=[Status.FAILED, Status.DEAD]).update(
            status=Status.PENDING, next_attempt_at=timezone.now(), attempts=0
        )
        messages.success(request, f"{retried} deliveries will be sent again shortly.")
