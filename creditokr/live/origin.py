"""Only the app's own pages may open the live socket.

Browsers send a site's cookies to every port of its host, so a check on
the host name alone (Channels' AllowedHostsOriginValidator, which runs too)
would let a page served from another port of the same machine listen as the
signed-in person. Like Django's CSRF check, the Origin must be the address
the socket was opened on (its Host header, port included, with the host on
ALLOWED_HOSTS) or one of CSRF_TRUSTED_ORIGINS.
"""

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

Scope = dict[str, Any]


def same_origin(scope: Scope) -> bool:
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin1").strip()
    host = headers.get(b"host", b"").decode("latin1").strip().lower()
    if not origin or origin == "null":
        return False
    if origin.rstrip("/") in settings.CSRF_TRUSTED_ORIGINS:
        return True
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    secure = scope.get("scheme") == "wss"
    if (parts.scheme == "https") != secure:
        return False
    default_port = 443 if secure else 80
    return _with_port(parts.netloc.lower(), default_port) == _with_port(
        host, default_port
    )


def _with_port(netloc: str, default_port: int) -> str:
    """`host:port`, the scheme's port written out when it is left out."""
    if netloc.endswith("]") or ":" not in netloc.rsplit("]", 1)[-1]:
        return f"{netloc}:{default_port}"
    return netloc


class SameOriginValidator:
    """ASGI middleware: refuse a WebSocket whose Origin is not this site."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
