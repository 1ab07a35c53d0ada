"""ASGI entry point, served by uvicorn (`make run`, or behind a proxy)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "creditokr.settings")

application = get_asgi_application()
