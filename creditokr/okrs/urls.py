"""Read-side pages: the dashboard, my work and one objective."""

from django.urls import path

from creditokr.okrs import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("my-work/", views.my_work, name="my_work"),
    path("objectives/<id:pk>/", views.objective_detail, name="objective_detail"),
    path(
        "key-results/<id:pk>/history/",
        views.key_result_history,
        name="key_result_history",
    ),
]
