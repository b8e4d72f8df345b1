from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    """儿童福利科. For now it only declares its 探访关爱 programme (children/visits.py)."""

    name = "children"
    label = "children"
    verbose_name = "儿童福利"

    def ready(self):
        from . import visits  # noqa: F401 — registers the programme and its demo data
