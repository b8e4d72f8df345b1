"""Menu entries and record buttons of the 临时救助 flow (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem, register_nav
from core.registry.actions import RecordAction, register_action

SECTION = ("assistance", "社会救助")
SECTION_CODE = "assistance"  # 社会救助科
ORDER = 20

register_nav(
    *SECTION,
    NavItem("临时救助", "assistance:temp_list", "life-preserver", "workflow.view_case"),
    order=ORDER,
    section_code=SECTION_CODE,
)

register_action(
    "household",
    RecordAction("临时救助", "assistance:temp_create", "workflow.add_case", "life-preserver", order=30),
)
register_action(
    "person",
    RecordAction("临时救助", "assistance:temp_create", "workflow.add_case", "life-preserver", order=30),
)
