"""ASGI entry point, served by uvicorn (`make run`, or behind a proxy).

Pages are Django's; WebSocket connections at /live/ carry live updates to
signed-in people (creditokr.live), refused unless the Origin header is
this site's own address (see creditokr.live.origin) on one of ALLOWED_HOSTS.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "creditokr.settings")

# Django is set up first: the consumers import models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from creditokr.live.origin import SameOriginValidator  # noqa: E402
from creditokr.live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
