"""Write-side pages: forms and actions that change OKRs, and the list of
archived key results they restore from."""

from django.urls import path

from creditokr.okrs import edit_views, lifecycle_views

urlpatterns = [
    path("objectives/new/", edit_views.objective_create, name="objective_create"),
    path("objectives/<id:pk>/edit/", edit_views.objective_edit, name="objective_edit"),
    path(
        "objectives/<id:pk>/status/",
        edit_views.objective_status,
        name="objective_status",
    ),
    path(
        "objectives/<id:pk>/archive/",
        edit_views.objective_archive,
        name="objective_archive",
    ),
    path(
        "objectives/<id:pk>/key-results/new/",
        edit_views.key_result_create,
        name="key_result_create",
    ),
    path(
        "key-results/<id:pk>/edit/",
        edit_views.key_result_edit,
        name="key_result_edit",
    ),
    path(
        "key-results/<id:pk>/archive/",
        edit_views.key_result_archive,
        name="key_result_archive",
    ),
    path(
        "objectives/<id:pk>/archived-key-results/",
        edit_views.archived_key_results,
        name="archived_key_results",
    ),
    path(
        "key-results/<id:pk>/check-in/",
        edit_views.check_in_create,
        name="check_in_create",
    ),
    path(
        "objectives/<id:pk>/initiatives/new/",
        edit_views.initiative_create,
        name="initiative_create",
    ),
    path(
        "initiatives/<id:pk>/edit/",
        edit_views.initiative_edit,
        name="initiative_edit",
    ),
    path(
        "objectives/<id:pk>/archive/confirm/",
        lifecycle_views.objective_archive_confirm,
        name="objective_archive_confirm",
    ),
    path(
        "key-results/<id:pk>/archive/confirm/",
        lifecycle_views.key_result_archive_confirm,
        name="key_result_archive_confirm",
    ),
    path(
        "objectives/<id:pk>/delete/",
        lifecycle_views.objective_delete,
        name="objective_delete",
    ),
    path(
        "key-results/<id:pk>/delete/",
        lifecycle_views.key_result_delete,
        name="key_result_delete",
    ),
    path(
        "objectives/<id:pk>/duplicate/",
        lifecycle_views.objective_duplicate,
        name="objective_duplicate",
    ),
]
