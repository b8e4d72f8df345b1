"""Menu entry of the 保障对象台账 (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem, register_nav

SECTION = ("assistance", "社会救助")
SECTION_CODE = "assistance"  # 社会救助科
ORDER = 20

register_nav(
    *SECTION,
    NavItem("保障对象台账", "assistance:ledger", "journal-text", "benefits.view_entitlement"),
    order=ORDER,
    section_code=SECTION_CODE,
)
