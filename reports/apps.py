from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    label = "reports"
    verbose_name = "统计报表"

    def ready(self) -> None:
        from core.accounts.navigation import NavItem, register_nav

        # The report types this app ships; bureau apps register theirs from their own ready().
        from . import builtin  # noqa: F401

        register_nav(
            "reports",
            "统计报表",
            NavItem("报表中心", "reports:job_list", icon="file-earmark-spreadsheet"),
            order=90,
        )
