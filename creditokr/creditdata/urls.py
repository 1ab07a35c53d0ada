"""The credit-data screens: sources, deliveries, the KPI explorer, feeds."""

from django.urls import path

from creditokr.creditdata.views import (
    explorer,
    feeds,
    sources,
    sql_mapping,
    uploads,
)

urlpatterns = [
    path("", sources.source_list, name="data_sources"),
    path("new/", sources.source_create, name="data_source_create"),
    path("<id:pk>/", sources.source_detail, name="data_source_detail"),
    path("<id:pk>/edit/", sources.source_edit, name="data_source_edit"),
    path("<id:pk>/delete/", sources.source_delete, name="data_source_delete"),
    path("<id:pk>/mapping/", sql_mapping.sql_mapping, name="data_source_mapping"),
    path("<id:pk>/upload/", uploads.upload, name="data_upload"),
    path(
        "<id:pk>/upload/<slug:token>/map/",
        uploads.upload_map,
        name="data_upload_map",
    ),
    path("<id:pk>/kpi/", explorer.kpi_explorer, name="data_kpi"),
    path("feeds/<id:pk>/", feeds.feed_edit, name="data_feed"),
    path("feeds/<id:pk>/stop/", feeds.feed_stop, name="data_feed_stop"),
    path("feeds/<id:pk>/refresh/", feeds.feed_refresh, name="data_feed_refresh"),
]
