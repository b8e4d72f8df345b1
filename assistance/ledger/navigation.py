"""Menu entry of the 保障对象台账 (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem

from ..navigation import MENU

MENU.register(NavItem("保障对象台账", "assistance:ledger", "journal-text", "benefits.view_entitlement"))
