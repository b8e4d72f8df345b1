"""Menu entry of the holiday one-off payment (imported by AssistanceConfig.ready() via FLOWS)."""

from core.accounts.navigation import NavItem

from ..navigation import MENU

MENU.register(
    NavItem("节日一次性补贴", "assistance:holiday_payment", "gift", "benefits.recalculate_paymentrun")
)
