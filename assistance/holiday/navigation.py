"""Menu entry of the holiday one-off payment (imported by AssistanceConfig.ready() via FLOWS)."""

from core.accounts.navigation import NavItem, register_nav

register_nav(
    "assistance",
    "社会救助",
    NavItem("节日一次性补贴", "assistance:holiday_payment", "gift", "benefits.recalculate_paymentrun"),
    order=20,
    section_code="assistance",
)
