"""Menu entry of 低保 dynamic management (imported by AssistanceConfig.ready())."""

from core.accounts.navigation import NavItem, register_nav

from ..navigation import ORDER, SECTION

register_nav(
    *SECTION, NavItem("低保动态复核", "assistance:review_list", "arrow-repeat", "workflow.view_case"), order=ORDER
)
