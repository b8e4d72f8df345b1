from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "core.benefits"
    label = "benefits"
    verbose_name = "待遇发放"

    def ready(self) -> None:
        from core.accounts.navigation import NavItem, register_nav
        from core.registry import events

        from . import services

        events.subscribe("death", services.entitlements_stop_for_death)
        register_nav(
            "benefits",
            "待遇发放",
            NavItem(
                "发放批次", "benefits:run_list", icon="cash-stack", permission="benefits.view_paymentrun"
            ),
            order=60,
        )
        register_nav(
            "benefits",
            "待遇发放",
            NavItem(
                "待遇标准", "benefits:standard_list", icon="journal-text", permission="benefits.view_standard"
            ),
            order=60,
        )
