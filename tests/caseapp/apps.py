from django.apps import AppConfig


class CaseappConfig(AppConfig):
    """A small generic case type used only in tests to exercise the case engine (no bureau uses it)."""

    name = "tests.caseapp"
    label = "caseapp"
    verbose_name = "测试业务"
