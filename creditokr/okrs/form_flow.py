"""The one pattern every form view in `edit_views` follows.

`handle` shows the form, or validates it and saves it, and shows it again
with what went wrong: input errors, a service's refusal, or someone else's
newer save next to the submitted values. `finish` reports a success and
goes to the objective's page. Part of the page or all of it follows the
rule in `htmx`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django_htmx.http import HttpResponseClientRedirect

from creditokr.okrs.htmx import PageRequest, render_partial_or_page, wants_partial
from creditokr.okrs.models import Objective
from creditokr.okrs.progress import format_decimal
from creditokr.okrs.services import EditConflict

PAGE = "okrs/forms/page.html"


@dataclass(frozen=True)
class Screen:
    """What surrounds a form: heading, partial, objective and submit button.

    `about` is worked out before the form touches the objective, so the page
    never shows input that has not been saved as if it were.
    """

    title: str
    template: str
    objective: Objective
    submit: str = "Save"
    extra: dict[str, Any] = field(default_factory=dict)
    about: str = field(init=False)

    def __post_init__(self) -> None:
        objective = self.objective
        about = ""
        if objective.pk:
            about = f"{objective.title} · {objective.cycle} · {objective.team}"
        object.__setattr__(self, "about", about)


@dataclass(frozen=True)
class ConflictRow:
    label: str
    theirs: str
    yours: str

    @property
    def differs(self) -> bool:
        return self.theirs != self.yours


@dataclass(frozen=True)
class Conflict:
    """Someone else's newer save, next to what this person tried to save."""

    message: str
    rows: list[ConflictRow]

    @property
    def values(self) -> list[tuple[str, str]]:
        """(label, their saved value) for every field of the form."""
        return [(row.label, row.theirs) for row in self.rows]


def submitted(request: PageRequest) -> Any:
    """The data to bind a form to: the POST, or None to show it unbound."""
    return request.POST if request.method == "POST" else None


def handle(
    request: PageRequest,
    form: forms.BaseForm,
    screen: Screen,
    save: Callable[[], HttpResponse],
    fresh_form: Callable[[models.Model], forms.BaseForm] | None = None,
) -> HttpResponse:
    """Show the form, or validate it and `save`, reporting what went wrong."""
    if request.method != "POST":
        return _show(request, form, screen)
    if not form.is_valid():
        return _show(request, form, screen, status=HTTPStatus.BAD_REQUEST)

    try:
        return save()
    except EditConflict as error:
        assert fresh_form is not None, "only edits can conflict"
        conflict = Conflict(str(error), _conflict_rows(form, error.current))
        fresh = fresh_form(error.current)
        return _show(
            request, fresh, screen, status=HTTPStatus.CONFLICT, conflict=conflict
        )
    except ValidationError as error:
        _add_errors(form, error)
        return _show(request, form, screen, status=HTTPStatus.BAD_REQUEST)


def _show(
    request: PageRequest,
    form: forms.BaseForm,
    screen: Screen,
    *,
    status: int = HTTPStatus.OK,
    conflict: Conflict | None = None,
) -> HttpResponse:
    """The form's container for htmx (always 200), else the whole page."""
    context = {
        "form": form,
        "screen": screen,
        "objective": screen.objective,
        "conflict": conflict,
        "form_template": screen.template,
        "action": request.get_full_path(),
    }
    return render_partial_or_page(
        request, PAGE, screen.template, context, status=status
    )


def _add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's errors next to their fields (or above the form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _conflict_rows(form: forms.BaseForm, current: models.Model) -> list[ConflictRow]:
    """Their saved values and the ones submitted, as the form labels them.

    The form has already copied the submitted values onto its instance.
    """
    mine = getattr(form, "instance", None)
    rows = []
    for name in form.fields:
        if name == "version" or not hasattr(current, name):
            continue
        label = str(form[name].label)
        rows.append(ConflictRow(label, _shown(current, name), _shown(mine, name)))
    return rows


def _shown(instance: models.Model | None, name: str) -> str:
    if instance is None:
        return ""
    display = getattr(instance, f"get_{name}_display", None)
    return _plain(display() if display else getattr(instance, name))


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, date):
        return date_format(value, "j M Y")
    return str(value)


def finish(request: PageRequest, objective: Objective, message: str) -> HttpResponse:
    """Tell the person what happened and go to the objective's page."""
    messages.success(request, message)
    url = reverse("objective_detail", args=[objective.pk])
    if wants_partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)
