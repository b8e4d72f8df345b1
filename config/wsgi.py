import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()


def _load_and_freeze() -> None:
    """Each worker imports every view module now (the URL configuration), not on its first request, and
    moves what it loaded out of the cyclic collector's way (core.memory.freeze_loaded_objects)."""
    from django.urls import get_resolver

    from core.memory import freeze_loaded_objects

    get_resolver().url_patterns  # noqa: B018 — evaluated for its imports
    freeze_loaded_objects()


_load_and_freeze()
