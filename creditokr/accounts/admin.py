from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.forms import ModelForm
from django.http import HttpRequest

from creditokr.accounts.models import (
    Invitation,
    Membership,
    Organisation,
    Role,
    Team,
    User,
)
from creditokr.cycles.models import Cycle

CALENDAR_FIELDS = {"fiscal_year_start_month", "fiscal_year_label"}
CALENDAR_CHANGED = (
    "Existing cycles keep their dates; new cycles follow the new calendar."
)


class MembershipInline(admin.TabularInline[Membership, User | Team]):
    model = Membership
    extra = 1
    readonly_fields = ["reach"]

    @admin.display(description="Applies to")
    def reach(self, membership: Membership) -> str:
        """Spell out that an administrator is one in every team."""
        if membership.role == Role.ADMIN:
            return "Every team: administrators run the whole organisation"
        if membership.team_id is None:
            return "-"
        return f"Only {membership.team}"


@admin.register(User)
class CreditUserAdmin(UserAdmin[User]):
    fieldsets = (*UserAdmin.fieldsets, ("Preferences", {"fields": ["time_zone"]}))  # type: ignore[misc]
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "fiscal_year_start_month", "time_zone", "is_demo"]

    def save_model(
        self,
        request: HttpRequest,
        obj: Organisation,
        form: ModelForm[Organisation],
        change: bool,
    ) -> None:
        super().save_model(request, obj, form, change)
        moved = CALENDAR_FIELDS.intersection(form.changed_data)
        if change and moved and Cycle.objects.exists():
            messages.warning(request, CALENDAR_CHANGED)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    """Invitations are made and sent from the app (Teams → Invite someone),
    which emails the link; here they are only looked up."""

    list_display = [
        "email",
        "team",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["team", "role"]
    search_fields = ["email"]
    readonly_fields = [
        "email",
        "team",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "sent_at",
        "times_sent",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "revoked_by",
    ]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Invitation | None = None
    ) -> bool:
        return False
