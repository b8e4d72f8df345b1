"""The 社会救助 demo seeder: approved 低保 households with lines in the current month's run, open
applications at every step (some overdue) on the caseworkers' to-do lists, reviews due, a few 特困,
临时救助 and 两项补贴 cases — and a second `seed_demo` changes nothing. Every step ran on its own day, so
the dates the pages show agree with the transition log."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from assistance.models import (
    AssistanceApplication,
    Decision,
    DibaoReview,
    DisabilitySubsidyApplication,
    Investigation,
    TekunApplication,
    TempAssistanceCase,
)
from core.accounts.models import User
from core.benefits.models import Entitlement, PaymentLine, PaymentRun
from core.benefits.months import month_start
from core.portal.demo import demo_today
from core.registry.models import Household
from core.workflow.models import Case, PublicNotice, TransitionLog
from core.workflow.selectors import todo_counts


def _counts():
    return (
        AssistanceApplication.objects.count(),
        Decision.objects.count(),
        Entitlement.objects.count(),
        DibaoReview.objects.count(),
        TekunApplication.objects.count(),
        TempAssistanceCase.objects.count(),
        DisabilitySubsidyApplication.objects.count(),
        Case.objects.count(),
        TransitionLog.objects.count(),
        PaymentLine.objects.count(),
    )


@pytest.mark.django_db
def test_demo_seeder_is_idempotent_and_fills_the_lists():
    call_command("seed_demo", households=600, quiet_accounts=True, stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", households=600, quiet_accounts=True, stdout=io.StringIO())
    assert _counts() == first

    today = timezone.localdate()
    approved = Decision.objects.filter(approved=True).count()
    assert approved >= 60
    open_applications = AssistanceApplication.objects.filter(is_open=True)
    assert 12 <= open_applications.count() <= 24
    assert len(set(open_applications.values_list("case__status", flat=True))) >= 5
    assert Case.objects.filter(case_type="dibao", is_open=True, due_date__lt=today).exists()
    run = PaymentRun.objects.get(benefit_type__code="dibao", month=month_start(today))
    assert run.status == PaymentRun.Status.DRAFT
    assert run.lines.filter(amount__gt=0).count() == approved
    assert DibaoReview.objects.filter(is_open=True).exists()
    # One application shows 延长办理期限 (its reason in the case log)
    assert TransitionLog.objects.filter(case__case_type="dibao", transition="extend_time_limit").count() == 1
    # The caseworkers and the chief have work on their to-do lists.
    chief_todo = todo_counts(User.objects.get(username="kezhang"), today=today)
    assert chief_todo["total"] > 0
    community_todo = sum(
        todo_counts(u, today=today)["total"] for u in User.objects.filter(username__startswith="sq")
    )
    assert community_todo > 0
    # One seed (it takes a while) for every check below.
    _dates_agree_with_the_transition_log()
    _only_the_intended_cases_are_overdue()
    _every_flow_has_records_for_the_first_community()
    _assets_agree_with_the_decisions()


def _day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _dates_agree_with_the_transition_log():
    """The 公示 card, the visit and the timeline tell one story: the notice's dates are the ones its log row
    posted, the visit came before it, every step was logged after the one before, on the day it names."""
    notices = PublicNotice.objects.select_related("case")
    assert notices.count() >= 100
    for notice in notices:
        posted = TransitionLog.objects.get(case=notice.case, transition="notice_open", data__notice=notice.pk)
        assert f"公示期{notice.start_date:%Y-%m-%d}至{notice.end_date:%Y-%m-%d}" in posted.comment
        assert _day(posted.at) <= notice.start_date
        assert notice.case.accepted_on <= notice.start_date
        if notice.closed_at is not None:
            assert _day(notice.closed_at) > notice.end_date
        for visit in Investigation.objects.filter(application_id=notice.case_id):
            assert visit.visit_date <= notice.start_date
            assert _day(visit.recorded_at) == visit.visit_date
    today = timezone.localdate()
    for case in Case.objects.all():
        logs = list(TransitionLog.objects.filter(case=case).order_by("id"))
        times = [log.at for log in logs]
        assert times == sorted(times) and len(set(times)) == len(times), case.number
        assert _day(times[-1]) <= today
        assert _day(case.created_at) == _day(times[0])
        accepted = [log for log in logs if log.transition == "accept"]
        if accepted:
            assert case.accepted_on == _day(accepted[0].at), case.number
    # The households were registered before anything was entered about them.
    first_case = min(Case.objects.values_list("created_at", flat=True))
    assert max(Household.objects.values_list("created_at", flat=True)) < first_case


def _assets_agree_with_the_decisions():
    """Every household the demo approved for 低保 is within the 财产 limits (the confirmation refuses
    otherwise); two open applications, not yet visited, are of households over a limit, so their page shows
    the 不符合 finding; no visit says 无存款 of a household with a deposit on record."""
    from assistance.asset_limits import asset_limits_check
    from core.registry.models import AssetRecord

    today = timezone.localdate()
    approved = AssistanceApplication.objects.filter(case__case_type="dibao", approved=True)
    checks = asset_limits_check(list(approved.values_list("household_id", flat=True)), today)
    assert checks and all(check.within for check in checks.values())
    open_ones = AssistanceApplication.objects.filter(case__case_type="dibao", is_open=True)
    open_checks = asset_limits_check(list(open_ones.values_list("household_id", flat=True)), today)
    over = [pk for pk, check in open_checks.items() if not check.within]
    assert len(over) == 2
    assert set(open_ones.filter(household_id__in=over).values_list("case__status", flat=True)) <= {
        "registered",
        "investigation",
    }
    assert not Investigation.objects.filter(application__household_id__in=over).exists()
    with_deposit = AssetRecord.objects.filter(kind="deposit").values("household_id")
    assert not Investigation.objects.filter(
        application__household_id__in=with_deposit, findings__contains="无存款"
    ).exists()


def _only_the_intended_cases_are_overdue():
    today = timezone.localdate()
    overdue = Case.objects.filter(is_open=True, due_date__lt=today)
    # One 低保 application per open step missed its limit; no review, 特困, 临时救助 or 两项补贴 case did.
    assert set(overdue.values_list("case_type", flat=True)) == {"dibao"}
    assert overdue.count() == 6
    assert len(set(overdue.values_list("status", flat=True))) == 5
    reviews = DibaoReview.objects.filter(is_open=True)
    assert reviews.exists()
    assert all(today <= r.due_on <= today + datetime.timedelta(days=31) for r in reviews)
    # Earlier reviews were done on time through the services, so the next ones fall due on various days.
    assert DibaoReview.objects.filter(is_open=False).exclude(outcome="").exists()


def _every_flow_has_records_for_the_first_community():
    caseworker = User.objects.get(username="sq0101")
    for model in (
        AssistanceApplication,
        TekunApplication,
        TempAssistanceCase,
        DisabilitySubsidyApplication,
        DibaoReview,
    ):
        assert model.objects.visible_to(caseworker).exists(), model.__name__
    # 特困: approved adults after a 公示, a minor approved without one, open cases.
    minor = TekunApplication.objects.get(is_minor=True)
    assert minor.approved and not PublicNotice.objects.filter(case_id=minor.pk).exists()
    assert TekunApplication.objects.filter(is_minor=False, approved=True).count() >= 2
    assert TekunApplication.objects.filter(is_open=True).exists()
    # 临时救助: decided by the township and by the district, one with 先行救助; two waiting for approval.
    approved = TempAssistanceCase.objects.filter(approved=True)
    assert {t.approval_level for t in approved} == {"township", "district"}
    assert approved.filter(is_advance=True).exists()
    assert TempAssistanceCase.objects.filter(is_open=True).count() >= 3
    # 两项补贴: approved with entitlements from the month of application.
    subsidies = DisabilitySubsidyApplication.objects.filter(approved=True)
    assert subsidies.exists()
    for application in subsidies:
        granted = [e for e in (application.living_entitlement, application.care_entitlement) if e]
        assert granted and all(e.start_month == month_start(application.applied_on) for e in granted)


def test_demo_today_moves_now_to_that_day_and_back():
    real = timezone.localdate()
    day = datetime.date(2026, 3, 9)
    with demo_today(day):
        first = timezone.now()
        assert timezone.localdate() == day
        assert timezone.localtime(first).hour == 10
        with demo_today(datetime.date(2025, 1, 2), hour=15):
            assert timezone.localtime().hour == 15
        assert timezone.localdate() == day
        assert timezone.now() > first
    assert timezone.localdate() == real
