from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The home dashboard (工作台) and the demo seeding: the floor above every core app.

    core.accounts is the bottom floor (users, roles, scope) and imports no other core app's services; this
    app may depend on all of them (registry, workflow, benefits), and bureau apps register panels and demo
    seeders here (core/portal/dashboard.py, core/portal/demo.py) without core importing a bureau."""

    name = "core.portal"
    label = "portal"
    verbose_name = "工作台"

    def ready(self) -> None:
        # Core apps below the portal contribute their dashboard cards and demo data through it.
        from . import (
            facilities,  # noqa: F401 — 服务设施 (core/facilities)
            headline,  # noqa: F401 — the dashboard's headline counts, kept like the panels
            staff,  # noqa: F401 — 队伍建设 (core/staff)
        )
