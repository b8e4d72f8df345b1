from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    label = "reports"
    verbose_name = "统计报表"

    def ready(self) -> None:
        from core.accounts.navigation import NavItem, register_nav

        # The printable 公示名单 page of the case engine offers the PDF.
        from core.workflow.links import NoticeListLink, register_notice_list_link

        # The report types this app ships; bureau apps register theirs from their own ready().
        # The build task is registered with the Celery app in every process (services enqueue it by name).
        from . import builtin, tasks  # noqa: F401

        register_notice_list_link(
            NoticeListLink("公示名单（PDF）", "reports:notice_list_pdf", "workflow.view_case")
        )
        register_notice_list_link(
            NoticeListLink("保障对象张榜名单（PDF）", "reports:posted_list_pdf", "benefits.view_entitlement")
        )

        register_nav(
            "reports",
            "统计报表",
            # Every report type shipped today is open to case viewers (公示名单); the roster needs more,
            # which the report centre checks per type.
            NavItem(
                "报表中心",
                "reports:job_list",
                icon="file-earmark-spreadsheet",
                permission="workflow.view_case",
            ),
            order=90,
        )
