"""A key result fed by a credit KPI: link it, refresh it, stop it.

Only people who may edit a key result change how it is fed. Saving a feed
refreshes it at once, so the person sees straight away what the data says;
stopping a feed leaves every check-in it wrote in the history.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from creditokr.creditdata import access, services
from creditokr.creditdata.engine.kpis import KPIS
from creditokr.creditdata.engine.kpis.base import KPI
from creditokr.creditdata.engine.settings import SettingsError
from creditokr.creditdata.forms import (
    FeedForm,
    raw_settings,
    settings_initial,
)
from creditokr.creditdata.models import DataSource, KeyResultFeed
from creditokr.creditdata.views.common import actor_of, kpis_for
from creditokr.okrs import access as okr_access
from creditokr.okrs.access import Actor
from creditokr.okrs.form_flow import objective_url
from creditokr.okrs.htmx import PageRequest, render_partial_or_page
from creditokr.okrs.models import KeyResult
from creditokr.okrs.progress import Kind
from creditokr.okrs.wording import quoted

logger = logging.getLogger(__name__)
CHOOSE = "choose"


def editable_key_result(request: PageRequest, pk: int) -> tuple[Actor, KeyResult]:
    actor = actor_of(request)
    key_result = okr_access.get_key_result(actor, pk)
    okr_access.require(okr_access.can_edit_key_result(actor, key_result))
    return actor, key_result


@require_http_methods(["GET", "POST"])
def feed_edit(request: PageRequest, pk: int) -> HttpResponse:
    actor, key_result = editable_key_result(request, pk)
    if key_result.kind == Kind.MILESTONE:
        return _milestone(request, key_result)
    feed = KeyResultFeed.objects.filter(key_result=key_result).first()
    saving = request.method == "POST" and request.POST.get("action") != CHOOSE
    if saving:
        kpi = KPIS.get(request.POST.get("kpi", ""), _chosen_kpi(actor, None, feed))
        form = FeedForm(actor, kpi, request.POST)
        if form.is_valid():
            response = _try_save(request, actor, key_result, form)
            if response is not None:
                return response
    else:
        sent = request.POST if request.method == "POST" else request.GET
        data = sent if "kpi" in sent else None
        kpi = _chosen_kpi(actor, data, feed)
        initial = _initial(feed, kpi) if data is None else _from_data(data, kpi)
        form = FeedForm(actor, kpi, initial=initial)

    code = HTTPStatus.BAD_REQUEST if saving else HTTPStatus.OK
    context = {
        "form": form,
        "kpi": kpi,
        "key_result": key_result,
        "objective": key_result.objective,
        "feed": feed,
    }
    return render_partial_or_page(
        request,
        "creditdata/feed_form.html",
        "creditdata/partials/feed_form.html",
        context,
        status=code,
    )


def _milestone(request: PageRequest, key_result: KeyResult) -> HttpResponse:
    context = {
        "message": "A milestone is done or not done; it cannot be fed by a KPI. "
        "Nothing was changed.",
        "objective": key_result.objective,
    }
    return render(
        request, "okrs/forms/refused.html", context, status=HTTPStatus.BAD_REQUEST
    )


def _chosen_kpi(actor: Actor, data: Any, feed: KeyResultFeed | None) -> KPI:
    """The KPI asked for, else the feed's, else the first for the source."""
    if data is not None and data.get("kpi") in KPIS:
        wanted = KPIS[data["kpi"]]
        source_id = data.get("source")
        source = _visible_source(actor, source_id)
        if source is None or source.dataset == wanted.dataset:
            return wanted
        # A new source of another dataset: its first KPI.
        return (kpis_for(source.dataset) or [wanted])[0]
    if feed is not None and feed.kpi in KPIS:
        return KPIS[feed.kpi]
    datasets = {k.dataset for k in KPIS.values()}
    first = access.visible_sources(actor).filter(dataset__in=datasets).first()
    if first is not None:
        return kpis_for(first.dataset)[0]
    return next(iter(KPIS.values()))


def _visible_source(actor: Actor, raw: Any) -> DataSource | None:
    number = okr_access.as_id(raw)
    if number is None:
        return None
    return access.visible_sources(actor).filter(pk=number).first()


def _from_data(data: Any, kpi: KPI) -> dict[str, Any]:
    """What was chosen so far, as the initial values of a fresh form.

    When the KPI changed to one of another dataset, its settings start
    from their defaults.
    """
    initial: dict[str, Any] = {
        key: data.get(key)
        for key in ("source", "payments_source", "segments", "products", "grain")
        if key in data
    }
    initial["baseline_from_data"] = bool(data.get("baseline_from_data"))
    initial["kpi"] = kpi.key
    defaults = settings_initial(kpi, {})
    if data.get("kpi") != kpi.key:
        return initial | defaults
    for key, default in defaults.items():
        if isinstance(default, bool):
            initial[key] = bool(data.get(key))
        else:
            initial[key] = data.get(key, default)
    return initial


def _initial(feed: KeyResultFeed | None, kpi: KPI) -> dict[str, Any]:
    if feed is None:
        return {"kpi": kpi.key} | settings_initial(kpi, {})
    return {
        "source": feed.source_id,
        "payments_source": feed.payments_source_id,
        "kpi": feed.kpi,
        "segments": ", ".join(feed.segments),
        "products": ", ".join(feed.products),
        "grain": feed.grain,
        "baseline_from_data": feed.baseline_from_data,
    } | settings_initial(kpi, feed.settings if feed.kpi == kpi.key else {})


def _try_save(
    request: PageRequest,
    actor: Actor,
    key_result: KeyResult,
    form: FeedForm,
) -> HttpResponse | None:
    """Save and refresh the feed; None when a setting is refused."""
    kpi = form.chosen
    try:
        cleaned = kpi.clean_settings(raw_settings(kpi, request.POST))
    except SettingsError as error:
        form.add_error(f"s-{error.setting}", error.message)
        return None
    values = form.cleaned_data
    fields = {
        "source": values["source"],
        "payments_source": values.get("payments_source"),
        "kpi": form.chosen.key,
        "settings": services.jsonable(cleaned),
        "segments": values["segments"],
        "products": values["products"],
        "grain": values["grain"],
        "baseline_from_data": values["baseline_from_data"],
        "created_by": actor.user,
    }
    with transaction.atomic():
        saved, created = KeyResultFeed.objects.update_or_create(
            key_result=key_result, defaults=fields
        )
    logger.info(
        "feed %s %s by user %s",
        saved.pk,
        "created" if created else "changed",
        actor.user.pk,
    )
    outcome = services.refresh_feed(saved)
    intro = f"{quoted(key_result.title)} is now fed by {form.chosen.label} from "
    _report(request, outcome, intro + f"{quoted(values['source'].name)}.")
    return redirect(objective_url(key_result.objective_id, f"kr-{key_result.pk}"))


def _report(request: PageRequest, outcome: services.RefreshOutcome, intro: str) -> None:
    if outcome.error:
        messages.warning(
            request,
            f"{intro} The KPI could not be computed, so no check-in was "
            f"written: {outcome.error}",
        )
        return
    parts = [f"{outcome.written} new check-in{'s' if outcome.written != 1 else ''}"]
    if outcome.unchanged:
        parts.append(f"{outcome.unchanged} unchanged")
    if outcome.baseline is not None:
        parts.append(f"baseline {outcome.baseline.normalize():f}")
    messages.success(request, f"{intro} {', '.join(parts).capitalize()}.")


@require_POST
def feed_stop(request: PageRequest, pk: int) -> HttpResponse:
    actor, key_result = editable_key_result(request, pk)
    feed = _feed_or_404(key_result)
    feed.delete()
    logger.info(
        "feed of key result %s stopped by user %s", key_result.pk, actor.user.pk
    )
    messages.success(
        request,
        f"{quoted(key_result.title)} is no longer fed by data. The check-ins "
        "it wrote stay in its history.",
    )
    return redirect(objective_url(key_result.objective_id, f"kr-{key_result.pk}"))


@require_POST
def feed_refresh(request: PageRequest, pk: int) -> HttpResponse:
    _, key_result = editable_key_result(request, pk)
    feed = _feed_or_404(key_result)
    outcome = services.refresh_feed(feed)
    _report(request, outcome, f"Refreshed {quoted(key_result.title)}:")
    return redirect(objective_url(key_result.objective_id, f"kr-{key_result.pk}"))


def _feed_or_404(key_result: KeyResult) -> KeyResultFeed:
    feed = KeyResultFeed.objects.filter(key_result=key_result).first()
    if feed is None:
        raise Http404("This key result is not fed by data.")
    return feed
