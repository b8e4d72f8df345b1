"""Every scoped read of the staff roster: positions in force on a day, the 缺岗 lists, the counts for the
dashboard. Set-based: one query each, whatever the number of communities or people."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from core.benefits.exceptions import ParameterNotFound
from core.benefits.selectors import parameter_value
from core.registry.choices import RegionLevel
from core.registry.models import Region
from core.registry.querysets import user_scope_prefix
from core.registry.selectors import regions_visible_to

from .choices import SOCIAL_WORK_LEVELS, StaffRole
from .models import StaffMember, StaffPosition

# 社会工作专业人才总量, the district's 十四五 target (seed 004: 0.1万人 by 2025): a dated (local) parameter.
SOCIAL_WORK_TARGET = "staff_social_work_target"
DISTRICT_DIGITS = 6


def in_force_on(day: datetime.date, prefix: str = "") -> Q:
    """Positions held on `day` (valid_from ≤ day ≤ valid_to, an open position to this day and after)."""
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": day})
    )


def members_visible_to(user) -> QuerySet[StaffMember]:
    return StaffMember.objects.visible_to(user)


def positions_visible_to(user) -> QuerySet[StaffPosition]:
    return StaffPosition.objects.visible_to(user)


def positions_on(user, day: datetime.date, *, role: str | None = None) -> QuerySet[StaffPosition]:
    """The positions in the user's scope held on `day` (a past day answered from the dated history)."""
    rows = positions_visible_to(user).filter(in_force_on(day))
    return rows.filter(role=role) if role else rows


def holder_on(user, region_code: str, role: str, day: datetime.date) -> StaffMember | None:
    """Who held a one-per-region post (儿童主任 of a community, 儿童督导员 of a street) on `day`."""
    position = (
        positions_on(user, day, role=role)
        .filter(region_code=region_code)
        .select_related("member")
        .order_by("-valid_from")
        .first()
    )
    return position.member if position is not None else None


@dataclass(frozen=True)
class MemberDetail:
    member: StaffMember
    positions: list[StaffPosition]

    @property
    def current(self) -> list[StaffPosition]:
        return [p for p in self.positions if p.valid_to is None]

    @property
    def roles(self) -> list[str]:
        return sorted({p.role for p in self.positions})


def member_detail(user, pk: int) -> MemberDetail:
    """The member in the user's scope (404 otherwise) with every position, newest first."""
    member = get_object_or_404(
        members_visible_to(user).select_related("region", "region__parent", "created_by"), pk=pk
    )
    positions = list(member.positions.select_related("created_by", "ended_by").order_by("-valid_from", "-id"))
    return MemberDetail(member, positions)


def position_for_action(user, pk: int) -> StaffPosition:
    return get_object_or_404(positions_visible_to(user).select_related("member", "member__region"), pk=pk)


def _holder_exists(role: str, day: datetime.date) -> Exists:
    return Exists(StaffPosition.objects.filter(in_force_on(day), role=role, region_code=OuterRef("code")))


def communities_without_director(user, day: datetime.date) -> QuerySet[Region]:
    """缺岗: the communities/villages in scope with no 儿童主任 on `day` (one query)."""
    return regions_visible_to(user, level=RegionLevel.COMMUNITY).filter(
        ~_holder_exists(StaffRole.CHILD_DIRECTOR, day)
    )


def streets_without_supervisor(user, day: datetime.date) -> QuerySet[Region]:
    """缺岗: the streets/townships in scope with no 儿童督导员 on `day` (one query)."""
    return regions_visible_to(user, level=RegionLevel.STREET).filter(
        ~_holder_exists(StaffRole.CHILD_SUPERVISOR, day)
    )


def _coverage(user, level: int, role: str, day: datetime.date) -> dict:
    row = (
        regions_visible_to(user, level=level)
        .annotate(held=_holder_exists(role, day))
        .aggregate(total=Count("id"), covered=Count("id", filter=Q(held=True)))
    )
    total, covered = row["total"], row["covered"]
    return {
        "total": total,
        "covered": covered,
        "missing": total - covered,
        "rate": round(100 * covered / total, 1) if total else None,
    }


def staff_counts(user, day: datetime.date) -> dict:
    """The roster's figures for the user's scope on `day` (the dashboard's 队伍建设 card):
    持证社工 by level (社会工作专业人才 = every 持证社工), 养老护理员 with and without a certificate, and the
    coverage of communities by a 儿童主任 and of streets by a 儿童督导员. Depends on the scope only."""
    prefix = user_scope_prefix(user)
    if prefix is None:
        return {}
    held = positions_on(user, day)
    social = {
        level.value: Count(
            "member", distinct=True, filter=Q(role=StaffRole.SOCIAL_WORKER, qualification=level)
        )
        for level in SOCIAL_WORK_LEVELS
    }
    row = held.aggregate(
        social_workers=Count("member", distinct=True, filter=Q(role=StaffRole.SOCIAL_WORKER)),
        care_workers=Count("member", distinct=True, filter=Q(role=StaffRole.CARE_WORKER)),
        care_certified=Count(
            "member", distinct=True, filter=Q(role=StaffRole.CARE_WORKER) & ~Q(qualification="")
        ),
        community_workers=Count("member", distinct=True, filter=Q(role=StaffRole.COMMUNITY_WORKER)),
        **social,
    )
    return {
        "day": day,
        "social_workers": row["social_workers"],
        "social_by_level": [(level.label, row[level.value]) for level in SOCIAL_WORK_LEVELS],
        "care_workers": row["care_workers"],
        "care_certified": row["care_certified"],
        "community_workers": row["community_workers"],
        "directors": _coverage(user, RegionLevel.COMMUNITY, StaffRole.CHILD_DIRECTOR, day),
        "supervisors": _coverage(user, RegionLevel.STREET, StaffRole.CHILD_SUPERVISOR, day),
        # The target is the district's: shown to a district-wide scope only (a street's share is not set).
        "social_work_target": _target(day) if len(prefix) <= DISTRICT_DIGITS else None,
    }


def _target(day: datetime.date) -> int | None:
    try:
        return int(parameter_value(SOCIAL_WORK_TARGET, day))
    except ParameterNotFound:
        return None
