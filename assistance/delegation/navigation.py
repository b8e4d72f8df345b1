"""Menu entry of the 委托确认抽查 (imported by assistance/review/navigation.py in ready())."""

from core.accounts.navigation import NavItem

from ..navigation import MENU

MENU.register(NavItem("委托确认抽查", "assistance:delegation_checks_list", "shuffle", "workflow.view_case"))
