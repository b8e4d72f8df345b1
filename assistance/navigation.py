"""Left navigation entries of the social-assistance bureau (社会救助)."""

from core.accounts.navigation import NavItem, register_nav
from core.registry.actions import RecordAction, register_action

SECTION = ("assistance", "社会救助")
SECTION_CODE = "assistance"  # 社会救助科 (core.accounts.Section): whose district staff see this group
ORDER = 20

register_nav(
    *SECTION,
    NavItem("低保申请", "assistance:dibao_list", "clipboard-check", "workflow.view_case"),
    order=ORDER,
    section_code=SECTION_CODE,
)
register_nav(
    *SECTION,
    NavItem("低保保障对象", "assistance:dibao_entitlements", "people", "benefits.view_entitlement"),
    order=ORDER,
    section_code=SECTION_CODE,
)
register_nav(
    *SECTION,
    NavItem("新增申请", "assistance:dibao_create", "plus-circle", "workflow.add_case"),
    order=ORDER,
    section_code=SECTION_CODE,
)

# The household page offers the application for that household.
register_action(
    "household",
    RecordAction("申请低保", "assistance:dibao_create", "workflow.add_case", "clipboard-plus", order=10),
)
