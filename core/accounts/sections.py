"""Sections (业务科室) and the district roles held in them.

A district role (科室经办人, 科长) gives its permissions through the user's group, and applies only in the
sections where the user holds it (SectionRole). Community and street roles are general: they apply to every
section. Case types and benefit types name their section by code; the checks here are the one place that
decides whether a user acts in that section."""

from __future__ import annotations

from .models import Role, Section, SectionRole

DISTRICT_ROLES: tuple[str, ...] = (Role.SECTION_CASEWORKER.value, Role.SECTION_CHIEF.value)

_CACHE_ATTR = "_section_roles_cache"


def _section_roles(user) -> dict[str, set[str]]:
    """role → codes of the active sections the user holds it in; one query, kept on the user object (a new
    one per request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = {}
        if getattr(user, "is_authenticated", False) and user.pk:
            rows = SectionRole.objects.filter(user=user, section__is_active=True).values_list(
                "role", "section__code"
            )
            for role, code in rows:
                cached.setdefault(role, set()).add(code)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def user_section_codes(user, *roles: str) -> set[str]:
    """The sections the user holds any of `roles` in (any district role if none is given)."""
    by_role = _section_roles(user)
    codes: set[str] = set()
    for role in roles or DISTRICT_ROLES:
        codes |= by_role.get(role, set())
    return codes


def has_section_role(user, section_code: str, *roles: str) -> bool:
    """Whether the user acts as one of `roles` (any district role if none is given) in the section.

    A superuser always does. Otherwise the user must be in the role's group and, for a district role, hold
    it in the section (a SectionRole row). A general role (社区经办人, 街道审核员 …) needs its group only;
    so does any role when `section_code` is "" (a case or benefit type that names no section)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    for role in roles or DISTRICT_ROLES:
        if not user.has_role(role):
            continue
        if not section_code or role not in DISTRICT_ROLES:
            return True
        if section_code in _section_roles(user).get(role, ()):
            return True
    return False


def section_name(code: str) -> str:
    """The section's name (社会救助科) for messages; the code itself if no such section exists."""
    if not code:
        return ""
    return Section.objects.filter(code=code).values_list("name", flat=True).first() or code


def section_visible(user, section_code: str) -> bool:
    """Whether the user may see a section's cases at all. Community and street roles are general, and so
    is every other non-district role (局领导 sees every section read-only); a user whose only roles are
    district roles (科室经办人, 科长) sees the sections they hold them in."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or not section_code:
        return True
    if any(role not in DISTRICT_ROLES for role in user.role_names):
        return True
    return section_code in user_section_codes(user)
