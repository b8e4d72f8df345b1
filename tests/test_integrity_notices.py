"""公示 dates (issue 10, part 3): a caseworker could enter a start in 2020 and finish the notice at once,
skipping the 7 days. The start may not precede the investigation (nor the case's 受理) nor lie more than
WORKFLOW_NOTICE_MAX_LEAD_DAYS ahead; the dates are the days posted, both ends included (DESIGN.md "Dates
the law counts"); finishing waits for the day after the last; a case in 公示 is not overdue for its days."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assistance import services as dibao_services
from assistance.case_types import DibaoStatus
from assistance.disability import services as disability_services
from assistance.models import DisabilitySubsidy, Investigation
from assistance.tekun import services as tekun_services
from core.workflow import selectors
from core.workflow.calendar import add_working_days
from core.workflow.models import Case, PublicNotice
from core.workflow.services import (
    NOTICE_CLOSING_WORKING_DAYS,
    TransitionError,
    case_create,
    case_transition,
    notice_close,
    notice_open,
)
from tests.factories import PersonFactory, household_with_members

D = datetime.date


def _cn(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _on(clock, day: datetime.date) -> None:
    """Set the clock so that today is `day`."""
    clock.shift(0)
    clock.shift((day - timezone.localdate()).days)


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "chief": make_user("科长", region="district"),
    }


@pytest.fixture
def generic_case(people, regions):
    def _new() -> Case:
        household = household_with_members(regions["community11"], size=2)
        return case_create(
            case_type="generic",
            applicant_household=household,
            region=regions["community11"],
            actor=people["clerk"],
        )

    return _new


# --- the start ----------------------------------------------------------------------------------------


def test_dibao_notice_cannot_start_before_the_home_visit(people, regions, clock):
    household = household_with_members(regions["community11"], size=2)
    with clock.days_ago(10):
        application = dibao_services.dibao_application_create(
            household=household, actor=people["clerk"], promise_signed=True, authorisation_signed=True
        )
        dibao_services.dibao_application_accept(application=application, actor=people["clerk"])
    today = timezone.localdate()
    visited = today - datetime.timedelta(days=3)
    dibao_services.investigation_record(
        application=application,
        actor=people["clerk"],
        visit_date=visited,
        visitors=[people["clerk"], people["clerk_b"]],
        findings="家庭2人，无固定收入。",
        economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
    )
    expected = f"公示开始日期不能早于{_cn(visited)}（调查核实日期）"
    for backdated in (visited - datetime.timedelta(days=1), D(2020, 9, 24)):
        with pytest.raises(TransitionError, match=expected):
            dibao_services.dibao_notice_start(
                application=application, actor=people["clerk"], start_date=backdated, place="社区公示栏"
            )
    # Nothing happened: the case did not move to 公示.
    assert Case.objects.get(pk=application.pk).status == DibaoStatus.INVESTIGATION
    assert not PublicNotice.objects.exists()

    notice = dibao_services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=visited, place="社区公示栏"
    )
    assert notice.start_date == visited
    # A 2020 start would have let the 公示 be finished at once; this one runs its 7 days.
    with pytest.raises(TransitionError, match="期满后方可结束"):
        dibao_services.dibao_notice_finish(application=application, actor=people["clerk"])


def test_tekun_and_disability_notices_cannot_start_before_their_investigation(people, regions, clock):
    elder = PersonFactory(
        household=household_with_members(regions["community11"], size=1),
        birth_date=D(timezone.localdate().year - 70, 1, 1),
    )
    with clock.days_ago(10):
        tekun = tekun_services.tekun_application_create(
            person=elder, actor=people["clerk"], promise_signed=True, authorisation_signed=True
        )
        tekun_services.tekun_transition(application=tekun, name="accept", actor=people["clerk"])
    investigated = timezone.localdate() - datetime.timedelta(days=2)
    tekun_services.tekun_investigation_record(
        application=tekun,
        actor=people["reviewer"],
        investigated_on=investigated,
        unable_to_work_reason="年满60周岁",
        no_income_source=True,
        no_supporter=True,
        self_care_items={k: True for k in ("eat", "dress", "bed", "toilet", "walk", "bathe")},
        support_mode="dispersed",
        institution_name="",
        findings="独居，无子女，无固定收入。",
    )
    with pytest.raises(TransitionError, match=f"不能早于{_cn(investigated)}（调查核实日期）"):
        tekun_services.tekun_notice_start(
            application=tekun, actor=people["clerk"], start_date=D(2020, 1, 1), place="社区公示栏"
        )

    disabled = household_with_members(regions["community11"], size=1).head
    with clock.days_ago(10):
        subsidy = disability_services.disability_application_create(
            person=disabled,
            actor=people["clerk"],
            subsidies=[DisabilitySubsidy.CARE],
            cert_no="22010619700101000011",
            cert_generation=3,
            disability_category="physical",
            disability_grade=1,
            long_term_care=True,
        )
        disability_services.disability_application_accept(application=subsidy, actor=people["clerk"])
        disability_services.disability_federation_check(application=subsidy, actor=people["clerk"], grade=1)
    disability_services.disability_household_check(application=subsidy, actor=people["reviewer"])
    today = timezone.localdate()
    with pytest.raises(TransitionError, match=f"不能早于{_cn(today)}（调查核实日期）"):
        disability_services.disability_notice_start(
            application=subsidy,
            actor=people["clerk"],
            start_date=today - datetime.timedelta(days=1),
            place="公示栏",
        )


def test_the_engine_refuses_a_start_before_acceptance_or_entry(people, generic_case, clock):
    with clock.days_ago(5):
        accepted = generic_case()
        case_transition(case=accepted, name="submit", actor=people["clerk"])  # 受理 (kind "enter")
        entered = generic_case()  # not accepted: its entry is the floor
    accepted_on = timezone.localdate() - datetime.timedelta(days=5)
    assert Case.objects.get(pk=accepted.pk).accepted_on == accepted_on
    for case, what in ((accepted, "受理日期"), (entered, "案件登记日期")):
        with pytest.raises(TransitionError, match=f"不能早于{_cn(accepted_on)}（{what}）"):
            notice_open(
                case=case,
                start_date=D(2020, 9, 24),
                days=7,
                place="社区公示栏",
                actor=people["clerk"],
            )
        assert notice_open(
            case=case, start_date=accepted_on, days=7, place="社区公示栏", actor=people["clerk"]
        )


def test_a_start_more_than_30_days_ahead_is_refused(people, generic_case, settings):
    today = timezone.localdate()
    case = generic_case()
    latest = today + datetime.timedelta(days=30)
    with pytest.raises(TransitionError, match=f"不能晚于{_cn(latest)}（最多提前30天安排公示）"):
        notice_open(
            case=case,
            start_date=today + datetime.timedelta(days=31),
            days=7,
            place="公示栏",
            actor=people["clerk"],
        )
    assert notice_open(case=case, start_date=latest, days=7, place="公示栏", actor=people["clerk"])

    settings.WORKFLOW_NOTICE_MAX_LEAD_DAYS = 10
    with pytest.raises(TransitionError, match="最多提前10天"):
        notice_open(
            case=generic_case(),
            start_date=today + datetime.timedelta(days=11),
            days=7,
            place="公示栏",
            actor=people["clerk"],
        )


# --- the dates posted ---------------------------------------------------------------------------------


def test_posted_on_9_24_for_7_days_hangs_until_9_30_and_finishes_from_10_1(
    client, people, generic_case, clock
):
    _on(clock, D(2026, 9, 24))
    case = generic_case()
    notice = notice_open(
        case=case, start_date=D(2026, 9, 24), days=7, place="社区公示栏", actor=people["clerk"]
    )
    # A posting, not a 民法典 period: not 10-1 (nor 10-9 after the National Day holidays).
    assert notice.end_date == D(2026, 9, 30)
    assert "公示期2026-09-24至2026-09-30" in case.transitions.get(transition="notice_open").comment

    # The list of notices in progress shows the dates posted.
    _on(clock, D(2026, 9, 27))
    client.force_login(people["clerk"])
    page = client.get(reverse("workflow:notice_list")).content.decode()
    assert "2026年9月24日 至 2026年9月30日" in page

    # Not finished on its last day, which is a day of the posting …
    _on(clock, D(2026, 9, 30))
    with pytest.raises(TransitionError, match="公示期至2026年9月30日，期满后方可结束（2026年10月1日起）"):
        notice_close(notice=notice, actor=people["clerk"])
    # … and from the day after.
    _on(clock, D(2026, 10, 1))
    notice_close(notice=notice, actor=people["clerk"])
    assert PublicNotice.objects.get(pk=notice.pk).status == PublicNotice.Status.PASSED


# --- overdue ------------------------------------------------------------------------------------------


def test_a_case_in_notice_is_not_overdue_for_the_notices_days(people, generic_case, clock):
    today = timezone.localdate()
    case = generic_case()
    old_due = case.due_date  # the step's own limit: 5 working days
    assert old_due == add_working_days(today, 5)
    # A 20-day 公示 runs past the step's limit.
    notice = notice_open(case=case, start_date=today, days=20, place="社区公示栏", actor=people["clerk"])
    end = today + datetime.timedelta(days=19)
    assert notice.end_date == end
    case.refresh_from_db()
    assert case.due_date == add_working_days(end, NOTICE_CLOSING_WORKING_DAYS) > old_due

    clerk = people["clerk"]

    def overdue_everywhere() -> list[bool]:
        day = timezone.localdate()
        return [
            case.pk in {c.pk for c in selectors.overdue_cases(clerk, day)},
            selectors.todo_for(clerk, day).get(pk=case.pk).is_overdue,
            selectors.todo_counts(clerk, day)["overdue"] == 1,
            selectors.case_search(clerk, {"overdue": "1"}, day).filter(pk=case.pk).exists(),
        ]

    # Past the step's old limit, the 公示 still hanging: not overdue.
    _on(clock, old_due + datetime.timedelta(days=1))
    assert overdue_everywhere() == [False] * 4
    # A due date left from before (or moved by hand) does not make it overdue while the 公示 hangs …
    Case.objects.filter(pk=case.pk).update(due_date=old_due)
    assert overdue_everywhere() == [False] * 4
    _on(clock, end)
    assert overdue_everywhere() == [False] * 4
    # … but once the 公示 has ended and nobody closed it, the case is overdue again.
    _on(clock, end + datetime.timedelta(days=1))
    assert overdue_everywhere() == [True] * 4
