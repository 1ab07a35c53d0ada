"""Forms for creating cycles, rescheduling cadence events and templates."""

from datetime import date, time, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from creditokr.accounts.models import Organisation, Team
from creditokr.cycles.fiscal import FiscalCalendar, FiscalPeriod
from creditokr.cycles.models import CadenceEvent
from creditokr.okrs.fields import RealDateField
from creditokr.okrs.wording import format_day

WHOLE_YEAR = "year"
TEMPLATE_TEAMS = "template"
# How far outside its cycle a cadence event may be moved, either side.
RESCHEDULE_MARGIN = timedelta(days=30)


def _months(period: FiscalPeriod) -> str:
    return f"{date_format(period.start, 'M')} to {date_format(period.end, 'M')}"


class CycleCreateForm(forms.Form):
    """A fiscal quarter or year; its dates come from the fiscal calendar."""

    fiscal_year = forms.TypedChoiceField(
        coerce=int,
        error_messages={"invalid_choice": "Pick a fiscal year from the list."},
    )
    period = forms.ChoiceField(
        label="Cycle",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Pick a quarter or the whole year."},
    )

    def __init__(
        self, calendar: FiscalCalendar, today: date, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.calendar = calendar
        current = calendar.fiscal_year_of(today)
        years = [calendar.year_period(year) for year in range(current - 1, current + 3)]
        self.fields["fiscal_year"].choices = [  # type: ignore[attr-defined]
            (y.fiscal_year, f"{y.label} ({format_day(y.start)} to {format_day(y.end)})")
            for y in years
        ]
        self.fields["fiscal_year"].initial = current
        quarters = calendar.quarters_of_year(current)
        self.fields["period"].choices = [  # type: ignore[attr-defined]
            *((str(q.quarter), f"Q{q.quarter} ({_months(q)})") for q in quarters),
            (WHOLE_YEAR, "The whole fiscal year"),
        ]
        self.fields["period"].initial = str(calendar.quarter_of(today).quarter)

    @property
    def fiscal_period(self) -> FiscalPeriod:
        year: int = self.cleaned_data["fiscal_year"]
        period: str = self.cleaned_data["period"]
        if period == WHOLE_YEAR:
            return self.calendar.year_period(year)
        return self.calendar.quarter_period(year, int(period))


class CadenceEventForm(forms.ModelForm[CadenceEvent]):
    """A meeting's date and start time on the organisation's clocks."""

    day = RealDateField(label="Date")
    start_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter the time as hours:minutes, like 14:30."},
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        min_value=5,
        max_value=24 * 60,
        error_messages={
            "invalid": "Enter the length in whole minutes, like 90.",
            "min_value": "A meeting lasts at least 5 minutes.",
            "max_value": "A meeting lasts at most a day (1440 minutes).",
        },
    )

    class Meta:
        model = CadenceEvent
        fields = [
            "day",
            "start_time",
            "duration_minutes",
            "attendees",
            "location",
            "notes",
        ]
        labels = {"attendees": "Who attends"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, organisation: Organisation, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = organisation.zone
        local = timezone.localtime(self.instance.starts_at, zone)
        self.fields["day"].initial = local.date()
        self.fields["start_time"].initial = local.time().replace(second=0)
        self.fields[
            "start_time"
        ].help_text = f"In the organisation's time zone, {organisation.time_zone}."
        attendees = self.fields["attendees"]
        attendees.empty_label = "Everyone"  # type: ignore[attr-defined]
        attendees.required = False

    def clean_day(self) -> date:
        """A day near the event's cycle: a typo in the year is caught here."""
        day: date = self.cleaned_data["day"]
        cycle = self.instance.cycle
        earliest = cycle.start_date - RESCHEDULE_MARGIN
        latest = cycle.end_date + RESCHEDULE_MARGIN
        if not earliest <= day <= latest:
            raise forms.ValidationError(
                f"Pick a date from {format_day(earliest)} to {format_day(latest)}: "
                f"up to {RESCHEDULE_MARGIN.days} days before or after {cycle} "
                f"({format_day(cycle.start_date)} to {format_day(cycle.end_date)})."
            )
        return day

    @property
    def local_day(self) -> date:
        day: date = self.cleaned_data["day"]
        return day

    @property
    def local_start(self) -> time:
        at: time = self.cleaned_data["start_time"]
        return at


class StartFromTemplateForm(forms.Form):
    """Which template to load and which team its objectives go to."""

    template = forms.ChoiceField(
        error_messages={"invalid_choice": "Pick a template from the list."}
    )
    team = forms.ChoiceField(
        label="Put the objectives in",
        error_messages={"invalid_choice": "Pick a team you may plan for."},
    )

    def __init__(
        self,
        templates: list[tuple[str, str]],
        teams: QuerySet[Team],
        *args: Any,
        allow_template_teams: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.teams = teams
        self.fields["template"].choices = templates  # type: ignore[attr-defined]
        choices = [(str(team.pk), team.name) for team in teams]
        if allow_template_teams:
            choices.insert(0, (TEMPLATE_TEAMS, "The template's own teams"))
        self.fields["team"].choices = choices  # type: ignore[attr-defined]
        self.fields["team"].help_text = (
            "The template's own teams are created if they do not exist yet."
            if allow_template_teams
            else "You can load templates into the teams you manage."
        )

    @property
    def chosen_team(self) -> Team | None:
        """The one team to use, or None for the template's own teams."""
        choice: str = self.cleaned_data["team"]
        if choice == TEMPLATE_TEAMS:
            return None
        return self.teams.get(pk=int(choice))
