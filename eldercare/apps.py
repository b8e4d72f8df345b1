from django.apps import AppConfig


class EldercareConfig(AppConfig):
    """养老服务科. For now it only declares its 探访关爱 programme (eldercare/visits.py)."""

    name = "eldercare"
    label = "eldercare"
    verbose_name = "养老服务"

    def ready(self):
        from . import visits  # noqa: F401 — registers the programme and its demo data
