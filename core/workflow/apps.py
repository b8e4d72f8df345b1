from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "core.workflow"
    label = "workflow"
    verbose_name = "业务流程"

    def ready(self) -> None:
        from core.accounts.navigation import NavItem, register_nav

        for label, url_name, icon in (
            ("待办事项", "workflow:todo", "list-check"),
            ("案件查询", "workflow:case_list", "search"),
            ("公示名单", "workflow:notice_list", "megaphone"),
        ):
            register_nav(
                "workbench", "工作台", NavItem(label, url_name, icon, "workflow.view_case"), order=10
            )
