from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from creditokr.accounts.models import Membership, Organisation, Team, User


class MembershipInline(admin.TabularInline[Membership, User | Team]):
    model = Membership
    extra = 1


@admin.register(User)
class CreditUserAdmin(UserAdmin[User]):
    fieldsets = (*UserAdmin.fieldsets, ("Preferences", {"fields": ["time_zone"]}))  # type: ignore[misc]
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "fiscal_year_start_month", "time_zone", "is_demo"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
