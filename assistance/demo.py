"""Demo data of the social-assistance bureau for `seed_demo` (registered in assistance/review/navigation.py):
低保 households approved through the services, open applications at every step (some overdue), the
dynamic reviews that fall due, and the current month's draft 低保 run.

Idempotent: the applications carry the note DEMO_NOTE; when the demo district already has them, nothing
is created again (the run is recalculated, which is itself idempotent)."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from core.accounts.models import User
from core.benefits.models import BenefitType, Entitlement, PaymentRun
from core.benefits.months import add_months, month_start
from core.benefits.services import payment_run_recalculate
from core.portal import demo_data as demo
from core.registry.choices import AreaType
from core.registry.models import Household
from core.workflow.models import Case, PublicNotice

from . import rules, services
from .models import AssistanceApplication, Decision, DibaoReview, Investigation, PovertyCause
from .review import services as review_services

DEMO_NOTE = "演示数据"
APPROVED = 120
OPEN_STEPS = ("registered", "accepted", "investigated", "publicity", "street_review", "chief_confirmation")
OPEN_PER_STEP = 4  # 24 open applications
SUBMITTED_REVIEWS = 3
# Households whose per-capita income is well below the standard, so the calculator pays them.
INCOME_SHARE = Decimal("0.6")
STANDARD = {AreaType.URBAN: Decimal("600"), AreaType.RURAL: Decimal("410")}


def _candidates(rng: random.Random) -> list[Household]:
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
    rng.shuffle(chosen)
    return chosen


def _staff(household: Household, users: dict[str, User]) -> tuple[User, User] | None:
    """The community caseworker (sqSSCC) and the street reviewer (jdSS) of the household's community."""
    code = household.region_code
    s, c = int(code[6:9]), int(code[9:12])
    clerk, reviewer = users.get(f"sq{s:02d}{c:02d}"), users.get(f"jd{s:02d}")
    return (clerk, reviewer) if clerk and reviewer else None


def _advance(
    household: Household, step: str, clerk: User, reviewer: User, chief: User, companion: User, rng
) -> AssistanceApplication:
    """File an application and take it, through the services, up to `step` ("approved" = confirmed). The
    home visit is made by the caseworker and `companion` (a district 科室经办人), never by the street reviewer
    or the 科长 who later review and decide the case (separation of duties)."""
    today = timezone.localdate()
    application = services.dibao_application_create(
        household=household,
        actor=clerk,
        promise_signed=True,
        authorisation_signed=True,
        applied_on=today - datetime.timedelta(days=rng.randint(3, 25)),
        poverty_cause=rng.choice(PovertyCause.values),
        notes=DEMO_NOTE,
    )
    if step == "registered":
        return application
    services.dibao_application_accept(application=application, actor=clerk)
    if step == "accepted":
        return application
    members = household.members.filter(death_date__isnull=True).count()
    services.investigation_record(
        application=application,
        actor=clerk,
        visit_date=today,
        visitors=[clerk, companion],
        findings=f"入户核查：家庭共同生活成员{members}人，收入来源以零星务工和养老金为主，住房简陋，无机动车辆。",
        economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
        economic_check_note="经家庭经济状况核对平台核对，未发现存款、车辆、工商登记等超标情况",
    )
    if step == "investigated":
        return application
    # A 公示 still running, or one that ended without objection. The services post it no earlier than
    # the visit (today); a demo case was visited and posted earlier, so its dates move back.
    notice = services.dibao_notice_start(
        application=application, actor=clerk, start_date=today, place=f"{household.region.name}公示栏"
    )
    _move_back(application, notice, days=3 if step == "publicity" else 12)
    if step == "publicity":
        return application
    services.dibao_notice_finish(application=application, actor=clerk)
    if step == "street_review":
        return application
    services.dibao_street_review(
        application=application, actor=reviewer, comment="经审核，材料齐全，同意上报"
    )
    if step == "chief_confirmation":
        return application
    services.dibao_approve(application=application, actor=chief, comment="同意")
    return application


def _move_back(application: AssistanceApplication, notice: PublicNotice, *, days: int) -> None:
    """Application, 受理, visit and 公示 `days` earlier, in the order the services dated them (direct
    writes, demo only): the 公示 that started `days` ago has ended when `days` exceeds its length."""
    back = datetime.timedelta(days=days)
    AssistanceApplication.objects.filter(pk=application.pk).update(applied_on=F("applied_on") - back)
    Case.objects.filter(pk=application.case_id).update(accepted_on=F("accepted_on") - back)
    Investigation.objects.filter(application_id=application.pk).update(visit_date=F("visit_date") - back)
    PublicNotice.objects.filter(pk=notice.pk).update(
        start_date=F("start_date") - back, end_date=F("end_date") - back
    )


def _backdate(application: AssistanceApplication, months_ago: int) -> None:
    """The services start payment the month after today's confirmation; demo households were confirmed
    earlier, so the current month's run has lines and reviews fall due (direct writes, demo only)."""
    start = add_months(month_start(timezone.localdate()), -months_ago)
    decision = Decision.objects.get(application=application)
    Entitlement.objects.filter(pk=decision.entitlement_id).update(start_month=start)
    Decision.objects.filter(pk=decision.pk).update(start_month=start)


def seed_assistance_demo(*, stdout, rng_seed: int, log: Callable[[str], None] | None = None) -> None:
    write = log or (lambda message: stdout.write(f"  {message}"))
    district = demo.DISTRICT[0][:6]
    dibao = BenefitType.objects.filter(code="dibao").first()
    if dibao is None:
        write("未找到低保待遇类型，跳过社会救助演示数据")
        return
    today = timezone.localdate()
    if not AssistanceApplication.objects.filter(region_code__startswith=district, notes=DEMO_NOTE).exists():
        rng = random.Random(rng_seed)
        users = {
            u.username: u for u in User.objects.filter(username__regex=r"^(sq\d{4}|jd\d{2}|kezhang|keshi)$")
        }
        chief, section = users.get("kezhang"), users.get("keshi")
        if chief is None or section is None:
            write("未找到演示账号（kezhang/keshi），跳过社会救助演示数据")
            return
        plan = [(h, _staff(h, users)) for h in _candidates(rng)]
        plan = [(h, staff) for h, staff in plan if staff is not None]
        open_count = min(len(OPEN_STEPS) * OPEN_PER_STEP, len(plan) // 2)
        approved_count = min(APPROVED, len(plan) - open_count)
        for i, (household, (clerk, reviewer)) in enumerate(plan[:approved_count]):
            application = _advance(household, "approved", clerk, reviewer, chief, section, rng)
            _backdate(application, 1 + i % 11)
        overdue = []
        for i, (household, (clerk, reviewer)) in enumerate(
            plan[approved_count : approved_count + open_count]
        ):
            step = OPEN_STEPS[i % len(OPEN_STEPS)]
            application = _advance(household, step, clerk, reviewer, chief, section, rng)
            if i % 3 == 0:
                overdue.append(application.pk)
        # Some cases missed their step's time limit, so the to-do lists show overdue work. The case engine
        # dates every step from today; the demo moves the due date back directly.
        Case.objects.filter(pk__in=overdue).update(due_date=today - datetime.timedelta(days=3))
        write(f"低保：批准 {approved_count} 户，办理中 {open_count} 件（其中超期 {len(overdue)} 件）")

    run = PaymentRun.objects.filter(
        benefit_type=dibao, month=month_start(today), kind=PaymentRun.Kind.MONTHLY
    ).first()
    if run is None or run.status == PaymentRun.Status.DRAFT:
        run = payment_run_recalculate(benefit_type=dibao, month=month_start(today))
        write(
            f"低保{today.year}年{today.month}月发放批次（草稿）：{run.line_count} 笔，合计 {run.total_amount} 元"
        )

    section = User.objects.filter(username="keshi").first()
    if section is not None:
        opened = review_services.dibao_reviews_schedule(on_date=today, actor=section)
        if opened:
            _submit_some_reviews(opened[:SUBMITTED_REVIEWS])
        write(
            f"低保动态复核：新发起 {len(opened)} 件，办理中共 {DibaoReview.objects.filter(is_open=True).count()} 件"
        )


def _submit_some_reviews(reviews: list[DibaoReview]) -> None:
    """A few reviews recorded (维持) and waiting for the 科长, so the chief's to-do list shows them too."""
    for review in reviews:
        code = review.region_code
        clerk = User.objects.filter(username=f"sq{int(code[6:9]):02d}{int(code[9:12]):02d}").first()
        if clerk is None:
            continue
        computed = review_services.recompute_amount(
            review.entitlement, review_services.effective_month(timezone.localdate())
        )
        previous = review_services.current_amount(review.entitlement)
        if not computed.eligible or computed.amount != previous:
            continue
        review_services.dibao_review_decide(
            review=review,
            actor=clerk,
            findings="入户复核：家庭人口、收入和财产状况与上次核定时相比无变化。",
            outcome=DibaoReview.Outcome.KEEP,
            reasons="家庭收入无变化，仍符合低保条件，维持原保障金额",
        )
        review_services.dibao_review_submit(review=review, actor=clerk, comment="复核完毕，提交确认")
