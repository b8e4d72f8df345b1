"""Menu entries and record actions of 残疾人两项补贴 (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem, register_nav
from core.registry.actions import RecordAction, register_action

SECTION = ("assistance", "社会救助")
SECTION_CODE = "assistance"  # 社会救助科
ORDER = 20

register_nav(
    *SECTION,
    NavItem("两项补贴台账", "assistance:disability_list", "universal-access", "workflow.view_case"),
    order=ORDER,
    section_code=SECTION_CODE,
)
register_nav(
    *SECTION,
    NavItem(
        "两项补贴月度比对",
        "assistance:disability_comparison",
        "arrow-left-right",
        "benefits.view_entitlement",
    ),
    order=ORDER,
    section_code=SECTION_CODE,
)

# The person page offers the application for that person; the household page lists its members to pick.
register_action(
    "person",
    RecordAction(
        "申请两项补贴", "assistance:disability_create", "workflow.add_case", "universal-access", order=30
    ),
)
register_action(
    "household",
    RecordAction(
        "申请两项补贴", "assistance:disability_create", "workflow.add_case", "universal-access", order=30
    ),
)

# The holiday one-off payment is its own subpackage, not one of the flows AssistanceConfig.ready()
# imports; its menu entry is registered from here.
from ..holiday import navigation as _holiday_navigation  # noqa: E402, F401
