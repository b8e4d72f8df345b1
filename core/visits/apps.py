from django.apps import AppConfig


class VisitsConfig(AppConfig):
    """探访关爱: one engine for the visit programmes every bureau declares (core/visits/programmes.py)."""

    name = "core.visits"
    label = "visits"
    verbose_name = "探访关爱"

    def ready(self):
        from core.registry import events

        from . import (
            navigation,  # noqa: F401 — menu entries
            services,
        )

        events.subscribe("death", services.enrollments_end_for_death)
