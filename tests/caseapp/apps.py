from django.apps import AppConfig


class CaseappConfig(AppConfig):
    """A small generic case type used only in tests to exercise the case engine (no bureau uses it)."""

    name = "tests.caseapp"
    label = "caseapp"
    verbose_name = "测试业务"

    def ready(self) -> None:
        from core.workflow.engine import register_case_type

        from .case_types import GENERIC

        register_case_type(GENERIC)
