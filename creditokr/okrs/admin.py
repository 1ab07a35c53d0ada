"""The admin for OKRs, held to the same rules as the app's own forms.

Saving checks and bumps the version, as the app does, so an edit made here
and one made in the app never silently overwrite each other; the services'
checks run on the form, so their errors show next to the field; check-in
history is read-only; only superusers delete OKRs.
"""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from creditokr.okrs import services
from creditokr.okrs.models import CheckIn, Initiative, KeyResult, Objective

VERSION_FIELDS = ("version", "created_at", "updated_at")
KEY_RESULT_COLUMNS = (
    "title",
    "owner",
    "kind",
    "unit",
    "start_value",
    "target_value",
    "due_date",
    "weight",
    "archived",
)


def is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


class VersionedForm[M: (Objective, KeyResult, Initiative)](forms.ModelForm[M]):
    """Remembers the version the page was opened at and refuses stale saves.

    Once the form and the model's own validation pass, `check` runs the
    service checks the app runs; what they raise is shown on the form.
    """

    loaded_version = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={"required": "Reload the page, then save again."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields["loaded_version"].required = True

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        loaded = cleaned.get("loaded_version")
        if self.instance.pk is None or loaded is None:
            return cleaned

        # The admin saves inside one transaction, so this lock holds until
        # the save: nobody else can slip a change in between.
        with transaction.atomic():
            current = (
                type(self.instance)
                .objects.select_for_update()
                .values_list("version", flat=True)
                .get(pk=self.instance.pk)
            )
        if loaded != current:
            name = self.instance._meta.verbose_name
            raise ValidationError(
                f"Someone else saved this {name} after you opened this page. "
                "Reload the page to see their change, then make yours again."
            )
        return cleaned

    def full_clean(self) -> None:
        # Only once the form has validated does the instance hold the
        # submitted values; a target derived from them here is what is saved.
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            self.check(self.instance)
        except ValidationError as error:
            self._show(error)

    def check(self, instance: M) -> None:
        """The app's checks for this kind of object; raises ValidationError."""

    def _show(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            self.add_error(field if field in self.fields else None, errors)


class ObjectiveForm(VersionedForm[Objective]):
    def check(self, instance: Objective) -> None:
        services.check_objective(None, instance)


class KeyResultForm(VersionedForm[KeyResult]):
    def check(self, instance: KeyResult) -> None:
        services.check_key_result(instance)


class InitiativeForm(VersionedForm[Initiative]):
    def check(self, instance: Initiative) -> None:
        services.check_initiative(instance)


class VersionedAdmin[M: Model](admin.ModelAdmin[M]):
    """Saves through `save_versioned`; only superusers delete."""

    readonly_fields = VERSION_FIELDS

    def save_model(
        self, request: HttpRequest, obj: M, form: forms.ModelForm[M], change: bool
    ) -> None:
        if not change:
            obj.save()
            return
        services.save_versioned(obj, form.cleaned_data["loaded_version"])

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return is_superuser(request) and super().has_delete_permission(request, obj)

    def get_deleted_objects(
        self, objs: Sequence[M] | QuerySet[M], request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        deleted, counts, missing, protected = super().get_deleted_objects(objs, request)
        # Check-ins cannot be deleted on their own, but go with their key
        # result when a superuser deletes it.
        missing.discard(str(CheckIn._meta.verbose_name))
        return deleted, counts, missing, protected


class KeyResultInline(admin.TabularInline[KeyResult, Objective]):
    """Listed here; edited on their own page, where every check runs."""

    model = KeyResult
    extra = 0
    fields = KEY_RESULT_COLUMNS
    readonly_fields = KEY_RESULT_COLUMNS
    show_change_link = True

    # Inlines take the parent object too, as django-stubs' own override does.
    def has_add_permission(  # type: ignore[override]
        self, request: HttpRequest, obj: Objective | None
    ) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Objective | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Objective | None = None
    ) -> bool:
        return False


@admin.register(Objective)
class ObjectiveAdmin(VersionedAdmin[Objective]):
    form = ObjectiveForm
    list_display = ["title", "cycle", "team", "owner", "visibility", "archived"]
    list_filter = ["cycle", "team", "visibility", "archived"]
    search_fields = ["title"]
    inlines = [KeyResultInline]


@admin.register(KeyResult)
class KeyResultAdmin(VersionedAdmin[KeyResult]):
    form = KeyResultForm
    list_display = ["title", "objective", "owner", "kind", "target_value", "archived"]
    list_filter = ["kind", "unit", "archived"]
    search_fields = ["title"]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin[CheckIn]):
    """Check-in history is append-only: readable here, never rewritten."""

    list_display = ["key_result", "value", "done", "as_of", "author", "created_at"]
    readonly_fields = [f.name for f in CheckIn._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: CheckIn | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: CheckIn | None = None
    ) -> bool:
        return False


@admin.register(Initiative)
class InitiativeAdmin(VersionedAdmin[Initiative]):
    form = InitiativeForm
    list_display = ["title", "objective", "assignee", "priority", "state", "due_date"]
    list_filter = ["priority", "state"]
