from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "core.workflow"
    label = "workflow"
    verbose_name = "业务流程"
