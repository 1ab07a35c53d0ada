"""Write-side pages: forms and actions that change OKRs."""

from django.urls import path

from creditokr.okrs import edit_views

urlpatterns = [
    path("objectives/new/", edit_views.objective_create, name="objective_create"),
    path("objectives/<int:pk>/edit/", edit_views.objective_edit, name="objective_edit"),
    path(
        "objectives/<int:pk>/status/",
        edit_views.objective_status,
        name="objective_status",
    ),
    path(
        "objectives/<int:pk>/archive/",
        edit_views.objective_archive,
        name="objective_archive",
    ),
    path(
        "objectives/<int:pk>/key-results/new/",
        edit_views.key_result_create,
        name="key_result_create",
    ),
    path(
        "key-results/<int:pk>/edit/",
        edit_views.key_result_edit,
        name="key_result_edit",
    ),
    path(
        "key-results/<int:pk>/archive/",
        edit_views.key_result_archive,
        name="key_result_archive",
    ),
    path(
        "key-results/<int:pk>/check-in/",
        edit_views.check_in_create,
        name="check_in_create",
    ),
    path(
        "objectives/<int:pk>/initiatives/new/",
        edit_views.initiative_create,
        name="initiative_create",
    ),
    path(
        "initiatives/<int:pk>/edit/",
        edit_views.initiative_edit,
        name="initiative_edit",
    ),
]
