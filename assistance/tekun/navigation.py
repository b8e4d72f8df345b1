"""Menu entries and record buttons of the 特困 flow (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem, register_nav
from core.registry.actions import RecordAction, register_action

SECTION = ("assistance", "社会救助")
SECTION_CODE = "assistance"  # 社会救助科
ORDER = 20

register_nav(
    *SECTION,
    NavItem("特困人员", "assistance:tekun_list", "person-heart", "workflow.view_case"),
    order=ORDER,
    section_code=SECTION_CODE,
)

# The household page offers the application for one of its members; the person page for that person.
register_action(
    "household",
    RecordAction("申请特困", "assistance:tekun_create", "workflow.add_case", "person-plus", order=20),
)
register_action(
    "person",
    RecordAction("申请特困", "assistance:tekun_create", "workflow.add_case", "person-plus", order=20),
)
