"""Demo data of 探访关爱 for one programme (the bureau that declares it registers this with seed_demo):
in each demo community, the community caseworker (sqSSCC) confirms up to six of the rule's suggestions
about four months ago and records visits through the services — most members visited every month, some
missed last month or this one (so the overdue list and the coverage page have something to show), a few
at high risk with a follow-up. Idempotent: nothing is done while the programme has enrolments in the
demo district."""

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


def seed_programme_demo(code: str, *, stdout=None, rng_seed: int = 2026) -> None:
    programme = get_programme(code)
    if Enrollment.objects.filter(programme=code, region_code__startswith=DEMO_DISTRICT).exists():
        return
    rng = random.Random(f"{rng_seed}-{code}")
    today = timezone.localdate()
    joined_on = add_months(today, -4).replace(day=1)
    User = get_user_model()
    communities = Region.objects.filter(code__startswith=DEMO_DISTRICT, level=RegionLevel.COMMUNITY).order_by(
        "code"
    )
    enrolled = visits = 0
    for community in communities:
        clerk = User.objects.filter(
            username=f"sq{int(community.code[6:9]):02d}{int(community.code[9:12]):02d}"
        ).first()
        if clerk is None:
            continue
        persons = list(
            suggestions(clerk, programme, joined_on)
            .filter(birth_date__lt=joined_on, region_code=community.code)
            .order_by("pk")[:PER_COMMUNITY]
        )
        if not persons:
            continue
        rows = services.enrollment_create(
            persons=persons, programme_code=code, joined_on=joined_on, actor=clerk
        )
        enrolled += len(rows)
        for index, person in enumerate(persons):
            month = joined_on
            while month <= today:
                current = month.year == today.year and month.month == today.month
                skip = (index % 5 == 4 and not current and month != joined_on) or (current and index % 3 == 2)
                day = _visit_day(month, rng, today)
                if (
                    not skip
                    and day >= joined_on
                    and not Visit.objects.filter(
                        person=person, visited_on__year=day.year, visited_on__month=day.month
                    ).exists()
                ):
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
        stdout.write(f"探访关爱 {programme.title}：纳入 {enrolled} 人，探访记录 {visits} 条")
