import importlib

from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    """社会救助科: 低保, 特困, 低保边缘/刚性支出, 临时救助, 残疾人两项补贴, dynamic review."""

    name = "assistance"
    label = "assistance"
    verbose_name = "社会救助"

    def ready(self):
        # Calculators (benefits engine) and case types (case engine) register themselves on import.
        for module in ("calculators", "case_types", "navigation"):
            try:
                importlib.import_module(f"{self.name}.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{self.name}.{module}":
                    raise
