"""Menu entries and record buttons of the 特困 flow, and its life-event subscriber (imported by
AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem
from core.registry import events
from core.registry.choices import LifeEventKind

from ..navigation import MENU

# The worker's autodiscovery looks at assistance.tasks only: importing the module registers the task.
from . import tasks  # noqa: F401
from .flow import TekunFlow
from .lifecycle import on_turned_18

# The household page offers the application for one of its members; the person page for that person.
TekunFlow.register_nav(
    MENU,
    icon="person-heart",
    pages=[
        NavItem("特困人员待办事项", "assistance:tekun_tasks_list", "list-check", "workflow.view_case"),
        NavItem("特困人员年度复核", "assistance:tekun_schedule", "calendar-check", "workflow.view_case"),
        NavItem("特困照料服务协议", "assistance:tekun_care_agreements_list", "people", "workflow.view_case"),
    ],
    action_label="申请特困",
    action_icon="person-plus",
    action_order=20,
)

# 年满18周岁 (core.registry.services.life_events_detect_birthdays): a minor supported as 特困 is re-judged.
events.subscribe(LifeEventKind.TURNED_18, on_turned_18)
