"""特殊困难老年人探访关爱 (民政部等10部门《关于开展特殊困难老年人探访关爱服务的指导意见》, 2022): persons aged
60 or over in one of the eight groups — 独居, 空巢, 留守, 失能, 重残, 高龄, 特困, 计划生育特殊家庭 — visited at
least monthly (seeds 002/003: 2025 target 100% registered and visited monthly)."""

from __future__ import annotations

import datetime
import functools

from django.db.models import Q, QuerySet

from core.portal.demo import register_demo_seeder
from core.registry.choices import AssessmentKind, ElderAbilityLevel, FactKind
from core.registry.facts import persons_with_fact
from core.registry.models import Person
from core.visits.demo import seed_programme_demo, seed_visits_demo
from core.visits.programmes import Programme, register_programme
from core.visits.rules import aged_at_least, assessed_at, holds_entitlement, severely_disabled

CODE = "elder_special"


def _with_fact(user, kind: str, day: datetime.date) -> Q:
    return Q(pk__in=persons_with_fact(user, kind, day).values("pk"))


def suggest_special_elders(user, on_date: datetime.date) -> QuerySet[Person]:
    eight_groups = (
        _with_fact(user, FactKind.LIVING_ALONE, on_date)  # 独居
        | _with_fact(user, FactKind.EMPTY_NEST, on_date)  # 空巢
        | _with_fact(user, FactKind.LEFT_BEHIND_ELDER, on_date)  # 留守
        | assessed_at(  # 失能: 老年人能力评估 (GB/T 42195-2022) 重度/完全失能 in force
            AssessmentKind.ELDER_ABILITY, (ElderAbilityLevel.SEVERE, ElderAbilityLevel.TOTAL), on_date
        )
        | severely_disabled()  # 重残
        | aged_at_least(80, on_date)  # 高龄
        | holds_entitlement(("tekun_basic",), on_date)  # 特困
        | _with_fact(user, FactKind.FAMILY_PLANNING_SPECIAL, on_date)  # 计划生育特殊家庭
        | _with_fact(user, FactKind.LOST_ONLY_CHILD, on_date)  # 失独
    )
    return Person.objects.visible_to(user).filter(aged_at_least(60, on_date)).filter(eight_groups)


register_programme(
    Programme(
        code=CODE,
        title="特殊困难老年人探访关爱",
        section="eldercare",
        suggest=suggest_special_elders,
        rule_text="60周岁以上，且属独居、空巢、留守、失能（重度/完全失能）、重残（一、二级）、高龄（80周岁以上）、"
        "特困或计划生育特殊家庭（失独）之一",
        sort_order=10,
    )
)
register_demo_seeder(f"visits.{CODE}", functools.partial(seed_programme_demo, CODE), order=300)
# Once for every bureau (the first registration of the name counts), after all enrolments.
register_demo_seeder("visits", seed_visits_demo, order=390)
