"""Demo data of the social-assistance bureau for `seed_demo` (registered in assistance/review/navigation.py):
低保 households approved through the services over the past months, open applications at every step (a
few overdue by their real time limits), the dynamic reviews done so far and those falling due now, the
current month's draft 低保 run, and a handful of 特困, 临时救助 and 两项补贴 cases.

Every step runs through the services on the day it is said to have happened (`demo_today`), so the dates
a page shows — the 公示 card, the investigation, the timeline, the due dates — agree with the immutable
transition log. Nothing is rewritten afterwards. Separation of duties holds as in real work: the community
caseworker (sqSSCC) and the district 科室经办人 (keshi) make the home visits, the street reviewer (jdSS)
reviews, the 科长 (kezhang) approves.

Idempotent: each flow's demo is created only while the demo district has none of its records (the run
is recalculated, which is itself idempotent; the review scheduler opens nothing twice)."""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from core.accounts.models import User
from core.benefits.models import BenefitType, Entitlement, PaymentRun
from core.benefits.months import add_months, month_start
from core.benefits.services import payment_run_recalculate
from core.portal import demo_data as demo
from core.portal.demo import demo_today
from core.registry.choices import AreaType, Relation
from core.registry.models import AssetRecord, Household, Person
from core.workflow.models import CalendarDay

from . import rules, services
from .asset_limits import FINANCIAL_KINDS, asset_limits_check
from .disability import services as disability_services
from .low_income.demo import seed_low_income
from .models import (
    AssistanceApplication,
    DibaoReview,
    DisabilitySubsidy,
    DisabilitySubsidyApplication,
    Investigation,
    PovertyCause,
    SupportMode,
    TekunApplication,
    TempAssistanceCase,
    TempAssistanceCause,
    TempAssistanceKind,
)
from .review import services as review_services
from .tekun import services as tekun_services
from .temporary import services as temp_services

DEMO_NOTE = "演示数据"
APPROVED = 120
OPEN_STEPS = ("registered", "accepted", "investigated", "publicity", "street_review", "chief_confirmation")
OPEN_PER_STEP = 4  # 24 open applications, the first of each step overdue
SUBMITTED_REVIEWS = 3
# The open applications (by their index, see OPEN_STEPS) entered for households over a 财产 limit: the
# on-time ones just registered and just accepted, before the home visit — their page shows the 不符合
# finding naming the limit. Every household approved, and every other open one, is within the limits.
OVER_LIMIT_SLOTS = (len(OPEN_STEPS), len(OPEN_STEPS) + 1)
# Households whose per-capita income is well below the standard, so the calculator pays them.
INCOME_SHARE = Decimal("0.6")
STANDARD = {AreaType.URBAN: Decimal("600"), AreaType.RURAL: Decimal("410")}
# Approved 低保 cases were confirmed between these many days ago (after the households were registered).
APPROVED_DAYS_AGO = (14, 400)
# The event that each step of an open 低保 application was stopped after, in the order they happen.
EVENTS = (
    "registered",
    "accepted",
    "investigated",
    "publicity",
    "street_review",
    "chief_confirmation",
    "approved",
)
# Working days between the event of a step and the one before it (公示: 7 calendar days, see _dibao_dates).
EVENT_GAP = {"accepted": 2, "investigated": 2, "publicity": 1, "chief_confirmation": 2, "approved": 2}
# How long ago (working days) an open application's last event happened: on time, or past its step's limit
# (受理 5, 入户调查 10 from 受理, 公示 closed within 2 of its last day, 街道审核 5, 科长确认 5 working days).
ON_TIME_LAG = {
    "registered": (1, 2),
    "accepted": (2, 4),
    "investigated": (1, 3),
    "publicity": (1, 3),
    "street_review": (1, 3),
    "chief_confirmation": (1, 3),
}
OVERDUE_LAG = {
    "registered": 8,
    "accepted": 13,
    "investigated": 11,
    "publicity": 12,
    "street_review": 8,
    "chief_confirmation": 8,
}
FINDINGS = (
    "入户核查：家庭共同生活成员{n}人，收入来源以零星务工和养老金为主，住房简陋，无机动车辆。",
    "入户核查：家庭共同生活成员{n}人，主要劳动力长期患病，家中无存款，日常开支依靠亲友接济。",
    "入户核查：家庭共同生活成员{n}人，居住老旧平房，家电陈旧，收入仅够维持基本生活。",
)


class _Days:
    """Working days of the official calendar around today (weekdays where a year is not entered), loaded
    once: the demo plans hundreds of step dates."""

    def __init__(self, today: datetime.date):
        self.today = today
        rows = CalendarDay.objects.filter(
            date__range=(today - datetime.timedelta(days=500), today + datetime.timedelta(days=60))
        ).values_list("date", "is_working_day")
        self._flags = dict(rows)

    def working(self, day: datetime.date) -> bool:
        flag = self._flags.get(day)
        return day.weekday() < 5 if flag is None else flag

    def on_or_before(self, day: datetime.date) -> datetime.date:
        while not self.working(day):
            day -= datetime.timedelta(days=1)
        return day

    def on_or_after(self, day: datetime.date) -> datetime.date:
        while not self.working(day):
            day += datetime.timedelta(days=1)
        return day

    def back(self, day: datetime.date, n: int) -> datetime.date:
        """The working day `n` working days before `day`."""
        while n > 0:
            day -= datetime.timedelta(days=1)
            if self.working(day):
                n -= 1
        return day

    def ahead(self, day: datetime.date, n: int) -> datetime.date:
        """The working day `n` working days after `day`."""
        while n > 0:
            day += datetime.timedelta(days=1)
            if self.working(day):
                n -= 1
        return day


# ---------------------------------------------------------------------------------------------------
# 低保
# ---------------------------------------------------------------------------------------------------


def _candidates(rng: random.Random) -> tuple[list[Household], list[Household]]:
    """The district's free households whose income the calculator pays: those whose recorded assets are
    within the 财产 limits today (approved, or open at any step), and those over a limit (a couple are
    entered as open applications so their page shows the 不符合 finding)."""
    district = demo.DISTRICT[0][:6]
    busy = AssistanceApplication.objects.filter(is_open=True).values("household_id")
    households = list(
        Household.objects.filter(region_code__startswith=district, is_active=True, head__isnull=False)
        .exclude(pk__in=busy)
        .select_related("region", "head")
        .order_by("pk")
    )
    members = rules.living_members([h.pk for h in households], timezone.localdate())
    facts = rules.household_income_facts(
        [h.pk for h in households], timezone.localdate(), members_by_household=members
    )
    chosen = [
        h
        for h in households
        if members.get(h.pk)
        and facts[h.pk].per_capita < STANDARD.get(h.area_type, STANDARD[AreaType.RURAL]) * INCOME_SHARE
    ]
    checks = asset_limits_check(chosen, timezone.localdate())
    within = [h for h in chosen if checks[h.pk].within]
    over = [h for h in chosen if not checks[h.pk].within]
    rng.shuffle(within)
    rng.shuffle(over)
    return within, over


def _clerk(region_code: str, users: dict[str, User]) -> User | None:
    return users.get(f"sq{int(region_code[6:9]):02d}{int(region_code[9:12]):02d}")


def _reviewer(region_code: str, users: dict[str, User]) -> User | None:
    return users.get(f"jd{int(region_code[6:9]):02d}")


def _staff(household: Household, users: dict[str, User]) -> tuple[User, User] | None:
    """The community caseworker (sqSSCC) and the street reviewer (jdSS) of the household's community."""
    clerk, reviewer = _clerk(household.region_code, users), _reviewer(household.region_code, users)
    return (clerk, reviewer) if clerk and reviewer else None


def _dibao_dates(last: str, day: datetime.date, days: _Days) -> dict[str, datetime.date]:
    """The day of every event up to `last`, which happened on `day`, counted backwards: 申请 → 受理 2 working
    days → 入户调查 2 → 公示 from the next working day, 7 days → 公示期满 the working day after its last day →
    街道审核 2 → 科长确认 2."""
    events = EVENTS[: EVENTS.index(last) + 1]
    dates = {last: day}
    for earlier, later in reversed(list(itertools.pairwise(events))):
        if later == "street_review":
            # The 公示 (7 days, both ends included) ended the day before it was closed.
            dates[earlier] = days.on_or_before(dates[later] - datetime.timedelta(days=7))
        else:
            dates[earlier] = days.back(dates[later], EVENT_GAP[later])
    return dates


def _advance(
    household: Household,
    dates: dict[str, datetime.date],
    clerk: User,
    reviewer: User,
    chief: User,
    companion: User,
    rng: random.Random,
) -> AssistanceApplication:
    """File an application and take it, through the services, through every event in `dates`, each on
    its day. The home visit is made by the caseworker and `companion` (the district 科室经办人), never by
    the street reviewer or the 科长 who later review and decide the case (separation of duties)."""
    with demo_today(dates["registered"]):
        application = services.dibao_application_create(
            household=household,
            actor=clerk,
            promise_signed=True,
            authorisation_signed=True,
            applied_on=dates["registered"],
            poverty_cause=rng.choice(PovertyCause.values),
            notes=DEMO_NOTE,
        )
    if "accepted" in dates:
        with demo_today(dates["accepted"], hour=9):
            services.dibao_application_accept(application=application, actor=clerk)
    if "investigated" in dates:
        members = household.members.filter(death_date__isnull=True).count()
        visit = dates["investigated"]
        savings = (
            AssetRecord.objects.filter(household=household, kind__in=FINANCIAL_KINDS, recorded_on__lte=visit)
            .exclude(disposed_on__lte=visit)
            .exists()
        )
        # A household with a deposit on record is not said to have none.
        findings = [f for f in FINDINGS if not (savings and "无存款" in f)]
        with demo_today(visit, hour=15):
            services.investigation_record(
                application=application,
                actor=clerk,
                visit_date=visit,
                visitors=[clerk, companion],
                findings=rng.choice(findings).format(n=members),
                economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
                economic_check_note="经家庭经济状况核对平台核对，未发现存款、车辆、工商登记等超标情况",
            )
    if "publicity" in dates:
        with demo_today(dates["publicity"], hour=9):
            services.dibao_notice_start(
                application=application,
                actor=clerk,
                start_date=dates["publicity"],
                place=f"{household.region.name}公示栏",
            )
    if "street_review" in dates:
        with demo_today(dates["street_review"], hour=9):
            services.dibao_notice_finish(application=application, actor=clerk)
    if "chief_confirmation" in dates:
        with demo_today(dates["chief_confirmation"], hour=14):
            services.dibao_street_review(
                application=application, actor=reviewer, comment="经审核，材料齐全，同意上报"
            )
    if "approved" in dates:
        with demo_today(dates["approved"], hour=11):
            services.dibao_approve(application=application, actor=chief, comment="同意")
    return application


def _first_community_first(plan: list[tuple[Household, tuple[User, User]]]) -> list:
    """The plan with a household of the demo's first community (sq0101's) first, if it has one: that
    caseworker finds a 低保 application whatever the shuffle gave."""
    first = f"{demo.DISTRICT[0][:6]}001001"
    ours = next((i for i, (h, _) in enumerate(plan) if h.region_code == first), None)
    if ours is not None:
        plan.insert(0, plan.pop(ours))
    return plan


def _seed_dibao(users: dict[str, User], rng: random.Random, days: _Days, write) -> None:
    today = days.today
    chief, section = users["kezhang"], users["keshi"]
    within, over = _candidates(rng)
    plan = [(h, _staff(h, users)) for h in within]
    plan = _first_community_first([(h, staff) for h, staff in plan if staff is not None])
    over_plan = [(h, _staff(h, users)) for h in over]
    over_plan = _first_community_first([(h, staff) for h, staff in over_plan if staff is not None])
    over_plan = over_plan[: len(OVER_LIMIT_SLOTS)]
    open_count = min(len(OPEN_STEPS) * OPEN_PER_STEP, len(plan) // 2)
    approved_count = min(APPROVED, len(plan) - open_count)
    # Oldest first, as they happened.
    approvals = sorted(
        days.on_or_before(today - datetime.timedelta(days=rng.randint(*APPROVED_DAYS_AGO)))
        for _ in range(approved_count)
    )
    for (household, (clerk, reviewer)), approved_on in zip(plan[:approved_count], approvals, strict=True):
        dates = _dibao_dates("approved", approved_on, days)
        _advance(household, dates, clerk, reviewer, chief, section, rng)
    _seed_past_reviews(users, rng, days, approvals[0] if approvals else today)

    open_plan = plan[approved_count : approved_count + open_count]
    over_count = 0
    for slot, entry in zip(OVER_LIMIT_SLOTS, over_plan, strict=False):
        if slot < len(open_plan):
            open_plan[slot] = entry
            over_count += 1
    opened = []
    for i, (household, (clerk, reviewer)) in enumerate(open_plan):
        step = OPEN_STEPS[i % len(OPEN_STEPS)]
        late = i < len(OPEN_STEPS)  # the first application of each step missed its time limit
        lag = OVERDUE_LAG[step] if late else rng.randint(*ON_TIME_LAG[step])
        dates = _dibao_dates(step, days.back(today, lag), days)
        opened.append(_advance(household, dates, clerk, reviewer, chief, section, rng))
    # 延长办理期限: one application on time in its investigation, extended by the 科长 to 45 working days.
    on_time = [a.pk for a in opened[len(OPEN_STEPS) :]]
    extend = (
        AssistanceApplication.objects.filter(
            pk__in=on_time, case__status="investigation", case__time_limit_extension__isnull=True
        )
        .select_related("case")
        .order_by("pk")
        .first()
    )
    if extend is not None:
        services.dibao_extend_time_limit(
            application=extend, actor=chief, reason="家庭经济状况核对结果尚未反馈，需补充核对后再行公示"
        )
    overdue = AssistanceApplication.objects.filter(
        pk__in=[a.pk for a in opened], case__due_date__lt=today
    ).count()
    write(
        f"低保：批准 {approved_count} 户，办理中 {open_count} 件（其中超期 {overdue} 件"
        f"{'，延长办理期限 1 件' if extend is not None else ''}"
        f"{f'，家庭财产超过规定 {over_count} 件' if over_count else ''}）"
    )


# ---------------------------------------------------------------------------------------------------
# 低保动态复核
# ---------------------------------------------------------------------------------------------------


def _review_decide(review: DibaoReview, clerk: User) -> None:
    """The caseworker's finding: 维持, or 增发/减发/停发 as the calculator finds the household now."""
    computed = review_services.recompute_amount(
        review.entitlement, review_services.effective_month(timezone.localdate())
    )
    previous = review_services.current_amount(review.entitlement)
    Outcome = DibaoReview.Outcome
    if not computed.eligible:
        outcome, reasons = Outcome.STOP, "家庭人均收入已不低于低保标准，不再符合低保条件，停发"
    elif previous is None or computed.amount == previous:
        outcome, reasons = Outcome.KEEP, "家庭收入无变化，仍符合低保条件，维持原保障金额"
    elif computed.amount > previous:
        outcome, reasons = Outcome.INCREASE, "家庭成员年龄或人员情况变化，按规定增发"
    else:
        outcome, reasons = Outcome.DECREASE, "家庭收入有所增加，按规定减发"
    review_services.dibao_review_decide(
        review=review,
        actor=clerk,
        findings="入户复核：核实家庭人口、收入和财产状况，与申报情况一致。",
        outcome=outcome,
        reasons=reasons,
    )
    review_services.dibao_review_submit(review=review, actor=clerk, comment="复核完毕，提交确认")


def _seed_past_reviews(users: dict[str, User], rng: random.Random, days: _Days, since: datetime.date) -> None:
    """The reviews of the months before this one, as the scheduler opened them at the start of each month
    (those due within 30 days); the caseworker recorded each within two weeks and the 科长 confirmed it a
    few days later. The households' next reviews fall due from these days on, not all at once."""
    today = days.today
    section, chief = users["keshi"], users["kezhang"]
    month = add_months(month_start(since), 1)
    while month < month_start(today):
        opened_on = days.on_or_after(month)
        month = add_months(month, 1)
        with demo_today(opened_on, hour=8):
            opened = review_services.dibao_reviews_schedule(on_date=opened_on, actor=section)
        for review in opened:
            # Some households are visited sooner than others; the 科长 confirms within a few days.
            decided_on = days.ahead(opened_on, rng.randint(3, 10))
            confirmed_on = days.ahead(decided_on, rng.randint(1, 4))
            if confirmed_on >= today:
                decided_on, confirmed_on = days.ahead(opened_on, 1), days.ahead(opened_on, 2)
            with demo_today(decided_on, hour=15):
                _review_decide(review, _clerk(review.region_code, users))
            with demo_today(confirmed_on, hour=10):
                review_services.dibao_review_confirm(review=review, actor=chief, comment="同意")


def _submit_some_reviews(reviews: list[DibaoReview], users: dict[str, User]) -> None:
    """A few reviews opened today already recorded (维持) and waiting for the 科长, so the chief's to-do
    list shows them too."""
    for review in reviews:
        clerk = _clerk(review.region_code, users)
        if clerk is None:
            continue
        computed = review_services.recompute_amount(
            review.entitlement, review_services.effective_month(timezone.localdate())
        )
        if not computed.eligible or computed.amount != review_services.current_amount(review.entitlement):
            continue
        _review_decide(review, clerk)


# ---------------------------------------------------------------------------------------------------
# 特困, 临时救助, 两项补贴: a handful each, the first in 正阳社区 (sq0101), the others spread
# ---------------------------------------------------------------------------------------------------


def _spread(people: list[Person], count: int, rng: random.Random) -> list[Person]:
    """Up to `count` people, one per community in turn: the demo's first community (sq0101's) first."""
    by_community: dict[str, list[Person]] = {}
    for person in people:
        by_community.setdefault(person.household.region_code, []).append(person)
    first = f"{demo.DISTRICT[0][:6]}001001"
    others = sorted(code for code in by_community if code != first)
    rng.shuffle(others)
    order = ([first] if first in by_community else []) + others
    for pool in by_community.values():
        rng.shuffle(pool)
    chosen: list[Person] = []
    while len(chosen) < count and any(by_community[c] for c in order):
        for code in order:
            if by_community[code] and len(chosen) < count:
                chosen.append(by_community[code].pop())
    return chosen


def _demo_people(**filters):
    district = demo.DISTRICT[0][:6]
    return (
        Person.objects.filter(
            household__region_code__startswith=district,
            household__is_active=True,
            death_date__isnull=True,
            **filters,
        )
        .select_related("household", "household__region")
        .order_by("pk")
    )


def _age(person: Person, day: datetime.date) -> int:
    return rules.age_on(person.birth_date, day)


TEKUN_PLAN = (
    # (stop after, years of age: adult/minor, support mode, self-care items lost)
    ("approved", "adult", SupportMode.DISPERSED, ()),
    ("approved", "adult", SupportMode.CENTRALISED, ("bathe", "walk")),
    ("approved", "adult", SupportMode.DISPERSED, ()),
    ("approved", "minor", SupportMode.DISPERSED, ()),
    ("publicity", "adult", SupportMode.DISPERSED, ()),
    ("investigated", "adult", SupportMode.CENTRALISED, ("bathe",)),
    ("accepted", "adult", SupportMode.DISPERSED, ()),
    ("registered", "adult", SupportMode.DISPERSED, ()),
)


# The institution's own account: 集中供养's basic living fee is paid into it (the 花名册 shows it).
TEKUN_INSTITUTION_BANK = {
    "bank_name": "中国工商银行长春绿园支行",
    "bank_account": "4200201109000012345",
    "account_name": "长春市绿园区社会福利中心",
}


def _tekun_institution(person):
    """The district's 特困供养服务设施 of the facility register (集中供养 names one), made once."""
    from core.facilities.models import Facility, FacilityKind

    community = person.household.region
    street = community.parent or community
    facility, _ = Facility.objects.get_or_create(
        kind=FacilityKind.objects.get(code="tekun_institution"),
        name="绿园区社会福利中心",
        region=street,
        is_active=True,
        defaults={
            "region_code": street.code,
            "address": "绿园区民政路1号",
            "operator_type": "public",
            **TEKUN_INSTITUTION_BANK,
        },
    )
    return facility


def _seed_tekun(users, rng: random.Random, days: _Days, write) -> None:
    today = days.today
    busy = set(AssistanceApplication.objects.values_list("household_id", flat=True))
    singles = [
        p
        for p in _demo_people(relation=Relation.HEAD)
        .annotate(size=Count("household__members"))
        .filter(size=1)
        if p.household_id not in busy and _age(p, today) >= 62
    ]
    minors = [
        p
        for p in _demo_people(relation=Relation.CHILD)
        if p.household_id not in busy and 6 <= _age(p, today) <= 15
    ]
    adults = _spread(singles, sum(1 for p in TEKUN_PLAN if p[1] == "adult"), rng)
    kids = _spread(minors, 1, rng)
    chief = users["kezhang"]
    counts = {"approved": 0, "open": 0}
    for stop, age, mode, lost in TEKUN_PLAN:
        pool = kids if age == "minor" else adults
        if not pool:
            continue
        person = pool.pop(0)
        clerk, reviewer = (
            _clerk(person.household.region_code, users),
            _reviewer(person.household.region_code, users),
        )
        if clerk is None or reviewer is None:
            continue
        minor = age == "minor"
        # Applied, 受理 2 working days later, 调查核实 by the street 4 days after, 公示 the next working day for
        # 7 days (not for a minor: 报请确认 instead), 科长确认 3 working days after the 公示 was closed.
        if stop == "approved":
            applied = days.back(today, rng.randint(25, 120))
        else:
            applied = days.back(
                today, {"registered": 1, "accepted": 3, "investigated": 7, "publicity": 8}[stop]
            )
        accepted = days.ahead(applied, 2)
        investigated = days.ahead(accepted, 4)
        posted = days.ahead(investigated, 1)
        finished = days.on_or_after(posted + datetime.timedelta(days=7))
        decided = days.ahead(finished if not minor else investigated, 3)
        with demo_today(applied):
            application = tekun_services.tekun_application_create(
                person=person, actor=clerk, promise_signed=True, authorisation_signed=True, applied_on=applied
            )
        if stop == "registered":
            counts["open"] += 1
            continue
        with demo_today(accepted, hour=9):
            tekun_services.tekun_transition(
                application=application, name="accept", actor=clerk, comment="材料齐全，予以受理"
            )
        if stop == "accepted":
            counts["open"] += 1
            continue
        items = {key: key not in lost for key in rules.SELF_CARE_ITEMS}
        if minor:
            reason, findings = (
                "未满16周岁",
                "父母均为重度残疾且无收入，无履行抚养义务能力，无其他生活来源，经村（居）委会及邻居走访核实。",
            )
        else:
            reason, findings = (
                f"年满60周岁（{_age(person, investigated)}岁）",
                "独居老人，无子女，无退休金和其他收入，无存款和财产，经入户调查和邻里走访核实。",
            )
        with demo_today(investigated, hour=15):
            tekun_services.tekun_investigation_record(
                application=application,
                actor=reviewer,
                investigated_on=investigated,
                unable_to_work_reason=reason,
                no_income_source=True,
                no_supporter=True,
                self_care_items=items,
                support_mode=mode,
                facility=_tekun_institution(person) if mode == SupportMode.CENTRALISED else None,
                findings=findings,
            )
        if stop == "investigated":
            counts["open"] += 1
            continue
        if minor:
            with demo_today(posted, hour=9):
                tekun_services.tekun_transition(
                    application=application,
                    name="submit_minor",
                    actor=clerk,
                    comment="未成年人不予公示，报请确认",
                )
        else:
            with demo_today(posted, hour=9):
                tekun_services.tekun_notice_start(
                    application=application,
                    actor=clerk,
                    start_date=posted,
                    place=f"{person.household.region.name}公示栏",
                )
            if stop == "publicity":
                counts["open"] += 1
                continue
            with demo_today(finished, hour=9):
                tekun_services.tekun_notice_finish(application=application, actor=clerk)
        with demo_today(decided, hour=11):
            tekun_services.tekun_transition(
                application=application, name="approve", actor=chief, comment="同意认定"
            )
        counts["approved"] += 1
    write(f"特困：批准 {counts['approved']} 人（含未成年人 1 人，不公示），办理中 {counts['open']} 件")


TEMP_PLAN = (
    # (stop after, kind, cause, multiple, 先行救助 amount or None, detail)
    (
        "approved",
        TempAssistanceKind.EMERGENCY,
        TempAssistanceCause.FIRE,
        "1.5",
        "500",
        "住房失火，家具衣物被毁",
    ),
    ("approved", TempAssistanceKind.EXPENSE, TempAssistanceCause.MEDICAL, "4", None, "住院手术自付费用较高"),
    (
        "approved",
        TempAssistanceKind.EXPENSE,
        TempAssistanceCause.MEDICAL,
        "8",
        None,
        "患恶性肿瘤，医疗自付费用超过家庭承受能力",
    ),
    (
        "approved",
        TempAssistanceKind.EMERGENCY,
        TempAssistanceCause.ACCIDENT,
        "3",
        "800",
        "交通事故致家庭主要劳动力重伤",
    ),
    (
        "submitted",
        TempAssistanceKind.EXPENSE,
        TempAssistanceCause.EDUCATION,
        "2",
        None,
        "子女考入大学，学费无力负担",
    ),
    (
        "submitted",
        TempAssistanceKind.EMERGENCY,
        TempAssistanceCause.SUDDEN_ILLNESS,
        "5",
        None,
        "突发脑出血，急需救治",
    ),
    (
        "accepted",
        TempAssistanceKind.EMERGENCY,
        TempAssistanceCause.ACCIDENT,
        None,
        "300",
        "骑车摔伤，暂时无法务工",
    ),
    (
        "registered",
        TempAssistanceKind.EXPENSE,
        TempAssistanceCause.MEDICAL,
        None,
        None,
        "慢性病长期服药，支出较大",
    ),
)


def _seed_temporary(users, rng: random.Random, days: _Days, write) -> None:
    today = days.today
    people = [p for p in _demo_people(relation=Relation.HEAD) if 20 <= _age(p, today) <= 75]
    chosen = _spread(people, len(TEMP_PLAN), rng)
    chief = users["kezhang"]
    counts = {"approved": 0, "open": 0}
    for (stop, kind, cause, multiple, advance, detail), person in zip(TEMP_PLAN, chosen, strict=False):
        code = person.household.region_code
        clerk, reviewer = _clerk(code, users), _reviewer(code, users)
        if clerk is None or reviewer is None:
            continue
        # Applied (先行救助 the same day when it was urgent), 受理 1 working day later, 调查核实 and 报批 2 days
        # after, decided 3 working days later: well within the 15 working days from 受理.
        if stop == "approved":
            applied = days.back(today, rng.randint(10, 90))
        else:
            applied = days.back(today, {"registered": 1, "accepted": 2, "submitted": 5}[stop])
        accepted = days.ahead(applied, 1)
        proposed = days.ahead(accepted, 2)
        decided = days.ahead(proposed, 3)
        with demo_today(applied):
            temp = temp_services.temp_case_create(
                person=person,
                actor=clerk,
                kind=kind,
                cause=cause,
                cause_detail=detail,
                applied_on=applied,
                is_advance=advance is not None,
                advance_given_on=applied if advance is not None else None,
                advance_amount=advance,
            )
        if stop == "registered":
            counts["open"] += 1
            continue
        with demo_today(accepted, hour=9):
            temp_services.temp_transition(temp=temp, name="accept", actor=clerk, comment="予以受理")
        if stop == "accepted":
            counts["open"] += 1
            continue
        with demo_today(proposed, hour=15):
            temp_services.temp_proposal_record(
                temp=temp,
                actor=clerk,
                standard_multiple=multiple,
                findings=f"经入户调查核实：{detail}，家庭无力自行解决，符合临时救助条件。",
            )
            temp_services.temp_submit(temp=temp, actor=clerk, comment="调查核实完毕，报请审批")
        temp.refresh_from_db()
        if stop == "submitted":
            counts["open"] += 1
            continue
        district = temp.approval_level == TempAssistanceCase.Level.DISTRICT
        with demo_today(decided, hour=11):
            temp_services.temp_transition(
                temp=temp,
                name="approve" if district else "township_approve",
                actor=chief if district else reviewer,
                comment="同意救助",
            )
        counts["approved"] += 1
    write(f"临时救助：批准 {counts['approved']} 件，办理中 {counts['open']} 件")


def _seed_disability(users, rng: random.Random, days: _Days, write) -> None:
    """Disabled members of 低保 households (生活补贴, and 护理补贴 for grades 1–2) applied once their
    household's 低保 was paid; a few severely disabled people outside 低保 apply for 护理补贴 only."""
    today = days.today
    month = month_start(today)
    dibao_households = set(
        AssistanceApplication.objects.filter(
            decision__approved=True, decision__start_month__lt=add_months(month, -1)
        ).values_list("household_id", flat=True)
    )
    disabled = list(_demo_people(disability_grade__in=(1, 2, 3, 4)).exclude(disability_cert_no=""))
    on_dibao = _spread([p for p in disabled if p.household_id in dibao_households], 5, rng)
    severe = _spread(
        [p for p in disabled if p.household_id not in dibao_households and p.disability_grade in (1, 2)],
        3,
        rng,
    )
    plan = [(p, "approved") for p in on_dibao[:3]] + [(p, "approved") for p in severe[:1]]
    plan += [
        (p, s)
        for p, s in zip(
            on_dibao[3:] + severe[1:],
            ("publicity", "household_check", "registered", "federation_review"),
            strict=False,
        )
    ]
    chief = users["kezhang"]
    counts = {"approved": 0, "open": 0}
    for person, stop in plan:
        code = person.household.region_code
        clerk, reviewer = _clerk(code, users), _reviewer(code, users)
        if clerk is None or reviewer is None:
            continue
        severe_care = person.disability_grade in disability_services.CARE_GRADES
        subsidies = []
        if person.household_id in dibao_households:
            subsidies.append(DisabilitySubsidy.LIVING)
        if severe_care:
            subsidies.append(DisabilitySubsidy.CARE)
        if not subsidies:
            continue
        # Applied, 受理 1 working day later, 残联 confirms the grade 3 days after, 民政审核 2 days after
        # that, 公示 from the next working day for 7 days, 科长审批 2 working days after it was closed.
        if stop == "approved":
            applied = days.back(today, rng.randint(20, 35))
        else:
            applied = days.back(
                today, {"registered": 1, "federation_review": 3, "household_check": 6, "publicity": 9}[stop]
            )
        accepted = days.ahead(applied, 1)
        federation = days.ahead(accepted, 3)
        checked = days.ahead(federation, 2)
        posted = days.ahead(checked, 1)
        finished = days.on_or_after(posted + datetime.timedelta(days=7))
        decided = days.ahead(finished, 2)
        with demo_today(applied):
            application = disability_services.disability_application_create(
                person=person,
                actor=clerk,
                subsidies=subsidies,
                cert_no=person.disability_cert_no,
                cert_generation=3,
                disability_category=person.disability_category,
                disability_grade=person.disability_grade,
                long_term_care=severe_care,
                applied_on=applied,
            )
        if stop == "registered":
            counts["open"] += 1
            continue
        with demo_today(accepted, hour=9):
            disability_services.disability_application_accept(
                application=application, actor=clerk, comment="予以受理"
            )
        if stop == "federation_review":
            counts["open"] += 1
            continue
        with demo_today(federation, hour=14):
            disability_services.disability_federation_check(
                application=application,
                actor=clerk,
                grade=person.disability_grade,
                opinion="经区残联核实，与残疾人证一致",
            )
        if stop == "household_check":
            counts["open"] += 1
            continue
        with demo_today(checked, hour=15):
            disability_services.disability_household_check(
                application=application, actor=reviewer, comment="经核对，符合补贴条件"
            )
        with demo_today(posted, hour=9):
            disability_services.disability_notice_start(
                application=application,
                actor=clerk,
                start_date=posted,
                place=f"{person.household.region.name}公示栏",
            )
        if stop == "publicity":
            counts["open"] += 1
            continue
        with demo_today(finished, hour=9):
            disability_services.disability_notice_finish(application=application, actor=clerk)
        with demo_today(decided, hour=11):
            disability_services.disability_approve(application=application, actor=chief, comment="同意")
        counts["approved"] += 1
    write(f"残疾人两项补贴：批准 {counts['approved']} 人，办理中 {counts['open']} 件")


# ---------------------------------------------------------------------------------------------------


def seed_assistance_demo(*, stdout, rng_seed: int, log: Callable[[str], None] | None = None) -> None:
    write = log or (lambda message: stdout.write(f"  {message}"))
    district = demo.DISTRICT[0][:6]
    dibao = BenefitType.objects.filter(code="dibao").first()
    if dibao is None:
        write("未找到低保待遇类型，跳过社会救助演示数据")
        return
    today = timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__regex=r"^(sq\d{4}|jd\d{2}|kezhang|keshi)$")}
    if "kezhang" not in users or "keshi" not in users:
        write("未找到演示账号（kezhang/keshi），跳过社会救助演示数据")
        return
    days = _Days(today)
    in_district = {"region_code__startswith": district}
    if not AssistanceApplication.objects.filter(**in_district, notes=DEMO_NOTE).exists():
        _seed_dibao(users, random.Random(rng_seed), days, write)
    # Each flow has its own seeded random, so adding one does not change the others' data.
    if not TekunApplication.objects.filter(**in_district).exists():
        _seed_tekun(users, random.Random(rng_seed + 1), days, write)
    if not TempAssistanceCase.objects.filter(**in_district).exists():
        _seed_temporary(users, random.Random(rng_seed + 2), days, write)
    if not DisabilitySubsidyApplication.objects.filter(**in_district).exists():
        _seed_disability(users, random.Random(rng_seed + 3), days, write)
    # 低保边缘 and 刚性支出困难家庭 recognised by a confirmation each (assistance/low_income/demo.py).
    low_income_rng = random.Random(rng_seed + 4)
    seed_low_income(
        users=users,
        days=days,
        district=district,
        advance=lambda *args: _advance(*args, low_income_rng),
        dates_of=_dibao_dates,
        write=write,
    )

    run = PaymentRun.objects.filter(
        benefit_type=dibao, month=month_start(today), kind=PaymentRun.Kind.MONTHLY
    ).first()
    if run is None or run.status == PaymentRun.Status.DRAFT:
        run = payment_run_recalculate(benefit_type=dibao, month=month_start(today))
        write(
            f"低保{today.year}年{today.month}月发放批次（草稿）：{run.line_count} 笔，合计 {run.total_amount} 元"
        )
    # The other monthly benefits of the bureau are calculated too, so their pages, the 花名册 and the 张榜名单
    # show this month's amounts.
    for benefit_type in BenefitType.objects.filter(code__in=OTHER_MONTHLY).order_by("sort_order"):
        other = PaymentRun.objects.filter(
            benefit_type=benefit_type, month=month_start(today), kind=PaymentRun.Kind.MONTHLY
        ).first()
        if other is None or other.status == PaymentRun.Status.DRAFT:
            other = payment_run_recalculate(benefit_type=benefit_type, month=month_start(today))
            write(f"{benefit_type.name}{today.year}年{today.month}月发放批次（草稿）：{other.line_count} 笔")

    opened = review_services.dibao_reviews_schedule(on_date=today, actor=users["keshi"])
    if opened:
        _submit_some_reviews(opened[:SUBMITTED_REVIEWS], users)
    write(
        f"低保动态复核：新发起 {len(opened)} 件，办理中共 {DibaoReview.objects.filter(is_open=True).count()} 件"
    )
    _seed_change_checks(users, district, today, write)


CHANGE_CHECKS = 2
OTHER_MONTHLY = ("tekun_basic", "tekun_care", "disability_living", "disability_care")


def _seed_change_checks(users: dict[str, User], district: str, today: datetime.date, write) -> None:
    """变化核查: a wage reported after the decision for two covered households (without a review in hand)
    opens a check each — the amount stays what the decision fixed until a review decides."""
    from core.benefits.models import ChangeCheck
    from core.registry.services import income_record_add

    if ChangeCheck.objects.filter(region_code__startswith=district).exists():
        return
    under_review = DibaoReview.objects.filter(is_open=True).values("entitlement_id")
    entitlements = (
        Entitlement.objects.filter(
            benefit_type__code="dibao",
            region_code__startswith=district,
            status=Entitlement.Status.ACTIVE,
            end_month__isnull=True,
        )
        .exclude(pk__in=under_review)
        .select_related("household", "household__head")
        .order_by("pk")[:CHANGE_CHECKS]
    )
    for entitlement in entitlements:
        household = entitlement.household
        clerk = _clerk(household.region_code, users)
        if clerk is None:
            continue
        income_record_add(
            household=household,
            kind="wage",
            monthly_amount="1200.00",
            period_start=month_start(today),
            person=household.head,
            actor=clerk,
            note="户主新就业，社区走访时了解",
        )
    write(
        f"低保变化核查：待核查 {ChangeCheck.objects.filter(region_code__startswith=district, status='open').count()} 件"
    )
