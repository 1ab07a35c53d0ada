"""WebSocket addresses, served next to Django's pages by creditokr.asgi."""

from django.urls import path

from creditokr.live.consumers import LiveConsumer

websocket_urlpatterns = [path("live/", LiveConsumer.as_asgi())]
