import importlib

from django.apps import AppConfig

# Each flow of the bureau is a subpackage with the same inner shape as the app (services, selectors,
# forms, views, case_types, navigation); 低保 — the flagship — sits at the top level.
FLOWS = ("", "tekun.", "temporary.", "disability.", "review.", "holiday.", "ledger.")


class AssistanceConfig(AppConfig):
    """社会救助科: 低保, 特困, 低保边缘/刚性支出, 临时救助, 残疾人两项补贴, dynamic review."""

    name = "assistance"
    label = "assistance"
    verbose_name = "社会救助"

    def ready(self):
        # Calculators (benefits engine), case types (case engine), menu entries and report types
        # register themselves on import.
        for flow in FLOWS:
            for module in ("calculators", "case_types", "navigation", "reports", "published"):
                name = f"{self.name}.{flow}{module}"
                try:
                    importlib.import_module(name)
                except ModuleNotFoundError as exc:
                    if exc.name != name and not name.startswith(f"{exc.name}."):
                        raise
        # 探访关爱 programmes of the bureau (core/visits).
        importlib.import_module(f"{self.name}.visits")
        # 变化核查: household changes after a decision become to-dos (subscribes to core.registry.events).
        importlib.import_module(f"{self.name}.checks")
        # The kept 两项补贴 comparisons go stale when an entitlement or a person is saved.
        importlib.import_module(f"{self.name}.disability.signals")
