"""Demo data of 探访关爱 for `seed_demo`, registered by the bureaus that declare programmes (core imports no
portal): `seed_programme_demo(code)` — in each demo community the community caseworker (sqSSCC) confirms
up to six of the programme's suggestions, joined about four months ago — and, once every programme has
enrolled, `seed_visits_demo` records the visits through the services (registered under one name by each
bureau: seed_demo runs it once, after the enrolments). Idempotent: nothing is done while the demo district
has enrolments of the programme, or visits."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.registry.choices import RegionLevel
from core.registry.models import Region

from . import services
from .models import Enrollment, Need, Visit
from .programmes import RiskLevel, add_months, get_programme
from .selectors import suggestions

DEMO_DISTRICT = "220106"
PER_COMMUNITY = 6
FINDINGS = [
    "老人精神状态良好，居住环境整洁，饮食正常。",
    "身体状况平稳，按时服药，家中无安全隐患。",
    "近期腿脚不便，出行困难，已告知社区助餐服务。",
    "独自在家，情绪低落，陪同聊天并约定下次探访。",
    "家中燃气灶老化，已提醒更换并联系物业检查。",
]


def _visit_day(month_first: datetime.date, rng: random.Random, last: datetime.date) -> datetime.date:
    return min(month_first + datetime.timedelta(days=rng.randint(2, 20)), last)


def _clerk(community_code: str):
    username = f"sq{int(community_code[6:9]):02d}{int(community_code[9:12]):02d}"
    return get_user_model().objects.filter(username=username).first()


def _communities():
    return Region.objects.filter(code__startswith=DEMO_DISTRICT, level=RegionLevel.COMMUNITY).order_by("code")


def seed_programme_demo(code: str, *, stdout=None, rng_seed: int = 2026) -> None:
    """Enrolments of one programme (each declaring bureau registers this for its programme)."""
    programme = get_programme(code)
    if Enrollment.objects.filter(programme=code, region_code__startswith=DEMO_DISTRICT).exists():
        return
    joined_on = add_months(timezone.localdate(), -4).replace(day=1)
    enrolled = 0
    for community in _communities():
        clerk = _clerk(community.code)
        if clerk is None:
            continue
        persons = list(
            suggestions(clerk, programme, joined_on)
            .filter(birth_date__lt=joined_on, region_code=community.code)
            .order_by("pk")[:PER_COMMUNITY]
        )
        if persons:
            enrolled += len(
                services.enrollment_create(
                    persons=persons, programme_code=code, joined_on=joined_on, actor=clerk
                )
            )
    if stdout is not None:
        stdout.write(f"探访关爱 {programme.title}：纳入 {enrolled} 人")


def seed_visits_demo(*, stdout=None, rng_seed: int = 2026) -> None:
    """Visits of every demo enrolment, after all programmes enrolled theirs (one visit serves each
    programme a person is in). Most members are visited every month; every fifth only in the month they
    joined (overdue now), every third not yet this month; a few at high risk with a follow-up."""
    if Visit.objects.filter(region_code__startswith=DEMO_DISTRICT).exists():
        return
    rng = random.Random(f"{rng_seed}-visits")
    today = timezone.localdate()
    visits = 0
    for community in _communities():
        clerk = _clerk(community.code)
        enrollments = list(
            Enrollment.objects.filter(region_code=community.code, left_on__isnull=True)
            .select_related("person")
            .order_by("person_id", "joined_on")
        )
        if clerk is None or not enrollments:
            continue
        joined: dict[int, datetime.date] = {}
        persons = {}
        for e in enrollments:
            joined[e.person_id] = max(joined.get(e.person_id, e.joined_on), e.joined_on)
            persons[e.person_id] = e.person
        for index, (person_id, person) in enumerate(persons.items()):
            month = joined[person_id].replace(day=1)
            while month <= today:
                current = (month.year, month.month) == (today.year, today.month)
                skip = (index % 5 == 4 and month != joined[person_id]) or (current and index % 3 == 2)
                day = _visit_day(month, rng, today)
                if not skip and day >= joined[person_id]:
                    high = index % 6 == 1
                    services.visit_record(
                        person=person,
                        visited_on=day,
                        way=rng.choice(["home", "home", "phone", "video"]),
                        findings=rng.choice(FINDINGS),
                        risk_level=RiskLevel.HIGH if high else rng.choice([RiskLevel.LOW, RiskLevel.MEDIUM]),
                        needs=[Need.DAILY_CARE, Need.MEDICAL] if high else [],
                        follow_up="联系家庭医生上门随访" if high and current else "",
                        follow_up_due=day + datetime.timedelta(days=7) if high and current else None,
                        actor=clerk,
                    )
                    visits += 1
                month = add_months(month, 1)
    if stdout is not None:
        stdout.write(f"探访关爱：探访记录 {visits} 条")
