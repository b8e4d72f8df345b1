"""Who may enter and change which staff positions (see the app's docstring in apps.py for the rule in words).

Seeing the roster needs `staff.view_staffmember` (every role but 系统管理员) and stops at the user's scope.
Changing it needs `staff.change_staffmember` and, per role of the position, one of:
- 社区经办人 and 街道审核员: 社区工作者 and 儿童主任 of a community in their scope;
- the section staff (科室经办人, 科长) of 儿童福利科: 儿童主任 and 儿童督导员; of 养老服务科: 养老护理员; of
  社会组织管理科: 持证社工, 志愿服务站负责人 and 其他.
局领导 see everything read-only. A superuser may do everything."""

from __future__ import annotations

from core.accounts.models import Role
from core.accounts.sections import has_section_role
from core.registry.choices import RegionLevel

from .choices import StaffRole

EDIT_PERMISSION = "staff.change_staffmember"
VIEW_PERMISSION = "staff.view_staffmember"

LOCAL_ROLES = frozenset({StaffRole.COMMUNITY_WORKER.value, StaffRole.CHILD_DIRECTOR.value})
LOCAL_USER_ROLES = (Role.COMMUNITY_CASEWORKER.value, Role.STREET_REVIEWER.value)
ROLE_SECTIONS: dict[str, str] = {
    StaffRole.CHILD_DIRECTOR.value: "children",
    StaffRole.CHILD_SUPERVISOR.value: "children",
    StaffRole.CARE_WORKER.value: "eldercare",
    StaffRole.SOCIAL_WORKER.value: "social_orgs",
    StaffRole.VOLUNTEER_STATION_HEAD.value: "social_orgs",
    StaffRole.OTHER.value: "social_orgs",
}
SECTION_USER_ROLES = (Role.SECTION_CASEWORKER.value, Role.SECTION_CHIEF.value)


def _may_edit_at_all(user) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False)) and user.is_active and user.has_perm(EDIT_PERMISSION)
    )


def may_manage(user, role: str, region_level: int | None) -> bool:
    """Whether `user` may enter, end or change a position of `role` held in a region of `region_level`
    (scope is checked apart, by region code)."""
    if not _may_edit_at_all(user):
        return False
    if user.is_superuser:
        return True
    if role in LOCAL_ROLES and region_level == RegionLevel.COMMUNITY and user.has_role(*LOCAL_USER_ROLES):
        return True
    section = ROLE_SECTIONS.get(role)
    return bool(section) and has_section_role(user, section, *SECTION_USER_ROLES)


def manageable_roles(user, region_level: int | None = None) -> list[str]:
    """The roles `user` may manage (in a region of `region_level`; any level when None), in choice order."""
    levels = [region_level] if region_level is not None else [RegionLevel.COMMUNITY, RegionLevel.STREET]
    return [r for r in StaffRole.values if any(may_manage(user, r, level) for level in levels)]


def may_edit_member(user, member, roles: list[str]) -> bool:
    """Whether `user` may change a member's details: they manage one of the roles the member has held."""
    return any(may_manage(user, role, member.region.level) for role in roles)
