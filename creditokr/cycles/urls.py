"""Cycles, their cadence events and the actions that plan them."""

from django.urls import path

from creditokr.cycles import views

urlpatterns = [
    path("", views.cycle_list, name="cycle_list"),
    path("new/", views.cycle_create, name="cycle_create"),
    path("<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("<int:pk>/next/", views.cycle_next, name="cycle_next"),
    path("<int:pk>/state/", views.cycle_state, name="cycle_state"),
    path(
        "<int:pk>/start-from-template/",
        views.cycle_start_from_template,
        name="cycle_start_from_template",
    ),
    path("cadence/<int:pk>/edit/", views.cadence_edit, name="cadence_edit"),
]
