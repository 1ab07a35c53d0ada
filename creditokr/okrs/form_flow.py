"""The one pattern every form view in `edit_views` follows.

`handle` shows the form, or validates it and saves it, and shows it again
with what went wrong: input errors, a service's refusal, or someone else's
newer save next to what this person changed. A create form sent again with
a token already used goes to what the first one made (`submissions`).
`finish` reports a success and goes to the objective's page. Part of the
page or all of it follows the rule in `htmx`.

Everything the conflict panel names goes through `access`: a related
object the person may not see is "an objective you cannot see".
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
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from creditokr.accounts.models import Team, User
from creditokr.okrs import access, submissions
from creditokr.okrs.access import Actor
from creditokr.okrs.fields import person_label
from creditokr.okrs.htmx import PageRequest, render_partial_or_page, wants_partial
from creditokr.okrs.models import Initiative, KeyResult, Objective
from creditokr.okrs.progress import format_decimal
from creditokr.okrs.services import EditConflict
from creditokr.okrs.submissions import AlreadySaved, SubmissionKind, SubmissionToken
from creditokr.okrs.wording import format_day

PAGE = "okrs/forms/page.html"
ALREADY_SAVED = "That was already saved."


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
    """One field: their saved value, and what this person entered."""

    label: str
    theirs: str
    yours: str
    changed: bool = True

    @property
    def shows_yours(self) -> bool:
        """Only where this person changed the field, to something else."""
        return self.changed and self.theirs != self.yours


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
    earlier = earlier_save(request)
    if earlier is not None:
        return _already_saved(request, earlier, screen)
    if not form.is_valid():
        return _show(request, form, screen, status=HTTPStatus.BAD_REQUEST)

    try:
        return save()
    except AlreadySaved as repeat:
        return _already_saved(request, repeat.earlier, screen)
    except EditConflict as error:
        assert fresh_form is not None, "only edits can conflict"
        actor = access.actor_for(request.user)
        rows = _conflict_rows(actor, form, error.current)
        conflict = Conflict(str(error), rows)
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


def _conflict_rows(
    actor: Actor, form: forms.BaseForm, current: models.Model
) -> list[ConflictRow]:
    """Their saved values and the ones submitted, as the form labels them.

    The form has already copied the submitted values onto its instance, and
    its `changed_data` compares them with the values the form was loaded
    with, so only what this person changed is shown as theirs.
    """
    mine = getattr(form, "instance", None)
    changed = set(form.changed_data)
    rows = []
    for name in form.fields:
        if name == "version" or not hasattr(current, name):
            continue
        label = str(form[name].label)
        theirs, yours = _shown(actor, current, name), _shown(actor, mine, name)
        rows.append(ConflictRow(label, theirs, yours, changed=name in changed))
    return rows


def _shown(actor: Actor, instance: models.Model | None, name: str) -> str:
    if instance is None:
        return ""
    display = getattr(instance, f"get_{name}_display", None)
    return _plain(actor, display() if display else getattr(instance, name))


VisibleTo = Callable[[Actor], QuerySet[Any]]

# Related objects some people may not see, and what they are told instead.
HIDDEN_AS: tuple[tuple[type[models.Model], VisibleTo, str], ...] = (
    (Objective, access.visible_objectives, "an objective you cannot see"),
    (KeyResult, access.visible_key_results, "a key result you cannot see"),
    (Initiative, access.visible_initiatives, "an initiative you cannot see"),
    (Team, access.visible_teams, "a team you cannot see"),
)


def _plain(actor: Actor, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, models.Model):
        return _related(actor, value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, date):
        return format_day(value)
    return str(value)


def _related(actor: Actor, value: models.Model) -> str:
    """A related object's name, if this actor may see it."""
    if isinstance(value, User):
        return person_label(value)
    for model, visible_to, hidden_as in HIDDEN_AS:
        if isinstance(value, model):
            seen = visible_to(actor).filter(pk=value.pk).exists()
            return str(value) if seen else hidden_as
    # Cycles are listed for everyone; what is in them is filtered.
    return str(value)


def finish(
    request: PageRequest, objective: Objective, message: str, anchor: str = ""
) -> HttpResponse:
    """Tell the person what happened and go to the objective's page."""
    messages.success(request, message)
    return go(request, objective_url(objective.pk, anchor))


def objective_url(pk: int, anchor: str = "") -> str:
    url = reverse("objective_detail", args=[pk])
    return f"{url}#{anchor}" if anchor else url


def go(request: PageRequest, url: str) -> HttpResponse:
    if wants_partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


# Forms sent twice


def earlier_save(request: PageRequest) -> SubmissionToken | None:
    """The save this create form's token already made, if any.

    Looked up before the form is validated, so a resend goes to what the
    first one made even if its data would no longer pass.
    """
    return submissions.recorded(request.POST.get("submission", ""))


def _already_saved(
    request: PageRequest, earlier: SubmissionToken, screen: Screen
) -> HttpResponse:
    """Say so and go to what the first save made, if this person sees it."""
    messages.info(request, ALREADY_SAVED)
    actor = access.actor_for(request.user)
    url = made_url(actor, earlier)
    if url is None:
        objective = screen.objective
        url = objective_url(objective.pk) if objective.pk else reverse("dashboard")
    return go(request, url)


def made_url(actor: Actor, earlier: SubmissionToken) -> str | None:
    """Where what a create form made is shown, as its success sent people."""
    pk, kind = earlier.object_id, earlier.kind
    if pk is None:
        return None
    if kind == SubmissionKind.OBJECTIVE:
        objective = access.visible_objectives(actor).filter(pk=pk).first()
        return objective_url(objective.pk) if objective else None
    if kind == SubmissionKind.KEY_RESULT:
        key_result = access.visible_key_results(actor).filter(pk=pk).first()
        if key_result is None:
            return None
        return objective_url(key_result.objective_id, f"kr-{key_result.pk}")
    if kind == SubmissionKind.CHECK_IN:
        check_in = access.visible_check_ins(actor).filter(pk=pk)
        objective_id = check_in.values_list("key_result__objective", flat=True)
        return _url_or_none(objective_id.first())
    initiative = access.visible_initiatives(actor).filter(pk=pk)
    return _url_or_none(initiative.values_list("objective", flat=True).first())


def _url_or_none(objective_id: int | None) -> str | None:
    return None if objective_id is None else objective_url(objective_id)
