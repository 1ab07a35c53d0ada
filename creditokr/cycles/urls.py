"""Cycles, their cadence events and the actions that plan them."""

from django.urls import path

from creditokr.cycles import views

urlpatterns = [
    path("", views.cycle_list, name="cycle_list"),
    path("new/", views.cycle_create, name="cycle_create"),
    path("<id:pk>/", views.cycle_detail, name="cycle_detail"),
    path("<id:pk>/next/", views.cycle_next, name="cycle_next"),
    path("<id:pk>/state/", views.cycle_state, name="cycle_state"),
    path(
        "<id:pk>/start-from-template/",
        views.cycle_start_from_template,
        name="cycle_start_from_template",
    ),
    path("cadence/<id:pk>/edit/", views.cadence_edit, name="cadence_edit"),
    path("cadence/<id:pk>/cancel/", views.cadence_cancel, name="cadence_cancel"),
    path("cadence/<id:pk>/restore/", views.cadence_restore, name="cadence_restore"),
    path("cadence/<id:pk>/invite/", views.cadence_invite, name="cadence_invite"),
]
