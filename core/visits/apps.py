from django.apps import AppConfig


class VisitsConfig(AppConfig):
    """探访关爱: one engine for the visit programmes every bureau declares (core/visits/programmes.py)."""

    name = "core.visits"
    label = "visits"
    verbose_name = "探访关爱"

    def ready(self):
        from . import navigation  # noqa: F401 — menu entries
