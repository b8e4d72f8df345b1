from core.accounts.navigation import NavGroup, NavItem

MENU = NavGroup("visits", "探访关爱", order=55, section_code="")

MENU.register(
    NavItem("本月应探访", "visits:due_list", "calendar-check", "visits.view_enrollment"),
    NavItem("逾期未探访", "visits:overdue_list", "exclamation-triangle", "visits.view_enrollment"),
    NavItem("待办跟进", "visits:followups_list", "list-check", "visits.view_visit"),
    NavItem("探访记录", "visits:visits_list", "journal-text", "visits.view_visit"),
    NavItem("探访对象", "visits:enrollments_list", "people", "visits.view_enrollment"),
    NavItem("待确认对象", "visits:suggestions", "person-plus", "visits.add_enrollment"),
    NavItem("探访覆盖率", "visits:coverage", "bar-chart", "visits.view_enrollment"),
)
