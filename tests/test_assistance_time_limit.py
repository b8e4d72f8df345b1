"""低保 whole-process limit (民发〔2021〕57号 第二十条): 30 working days from 受理, extended once to 45 with a
recorded reason by the section's 科长 (issue 13 item 6). The overdue flag of the to-do list, the 台账 and the
dashboard follows the (extended) limit."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from assistance import selectors, services
from assistance.case_types import DibaoStatus
from assistance.models import AssistanceApplication, Investigation, TimeLimitExtension
from core.benefits.models import Parameter
from core.workflow.calendar import add_working_days
from core.workflow.models import Case, TransitionLog
from core.workflow.selectors import overdue_cases, records_with_overdue, todo_counts, todo_for
from tests.factories import household_with_members

DAY = datetime.timedelta(days=1)
REASON = "家庭经济状况核对结果未反馈，需补充调查"


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district"),
        "chief2": make_user("科长", region="district"),
    }


@pytest.fixture
def household(regions):
    return household_with_members(regions["community11"], size=2)


def _at(clock, day: datetime.date) -> None:
    """The code under test's today becomes `day`."""
    clock.shift(0)
    clock.shift((day - timezone.localdate()).days)


def _late_case(people, household, clock):
    """Accepted on A (80 days ago), visited and posted on A, the 公示 passed, and sent back by the street on
    the 28th working day: the investigation step is cut to the two days left of the 30."""
    clock.shift(0)
    accepted = timezone.localdate() - 80 * DAY
    _at(clock, accepted)
    application = services.dibao_application_create(
        household=household,
        actor=people["clerk"],
        promise_signed=True,
        authorisation_signed=True,
        staff_relative=False,
    )
    services.dibao_application_accept(application=application, actor=people["clerk"])
    services.investigation_record(
        application=application,
        actor=people["clerk"],
        visit_date=accepted,
        visitors=[people["clerk"], people["clerk_b"]],
        findings="家庭2人，户主无固定收入。",
        economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
    )
    services.dibao_notice_start(
        application=application, actor=people["clerk"], start_date=accepted, place="公示栏"
    )
    _at(clock, accepted + 8 * DAY)
    services.dibao_notice_finish(application=application, actor=people["clerk"])
    _at(clock, add_working_days(accepted, 28))
    services.dibao_send_back(application=application, actor=people["reviewer"], reason="收入材料不全")
    application = AssistanceApplication.objects.select_related("case").get(pk=application.pk)
    assert application.case.status == DibaoStatus.INVESTIGATION
    assert application.case.accepted_on == accepted
    return application, accepted


def _overdue(application, user, day) -> dict[str, bool]:
    """The case's overdue flag on `day` as the to-do list, the dashboard counts, the overdue list and the
    台账 (records_with_overdue) read it."""
    todo = {c.pk: c.is_overdue for c in todo_for(user, day)}
    return {
        "todo": todo[application.pk],
        "count": todo_counts(user, day)["overdue"] == 1,
        "overdue_list": overdue_cases(user, day).filter(pk=application.pk).exists(),
        "ledger": records_with_overdue(AssistanceApplication.objects.filter(pk=application.pk), day)
        .get()
        .is_overdue,
    }


def test_overdue_the_day_after_30_working_days_without_an_extension(people, household, clock):
    application, accepted = _late_case(people, household, clock)
    deadline = add_working_days(accepted, 30)
    # The step after the send-back is cut to the whole-process deadline (10 working days would end later).
    assert application.case.due_date == deadline
    assert set(_overdue(application, people["clerk"], deadline).values()) == {False}
    assert set(_overdue(application, people["clerk"], deadline + DAY).values()) == {True}
    assert selectors.dibao_time_limit(application, deadline).overdue is False
    limit = selectors.dibao_time_limit(application, deadline + DAY)
    assert (limit.working_days, limit.deadline, limit.overdue, limit.extension) == (30, deadline, True, None)


def test_extended_to_45_with_a_reason_overdue_only_after_45(people, household, clock):
    application, accepted = _late_case(people, household, clock)
    _at(clock, add_working_days(accepted, 29))
    extension = services.dibao_extend_time_limit(
        application=application, actor=people["chief"], reason=REASON
    )
    deadline45 = add_working_days(accepted, 45)
    assert (extension.working_days, extension.deadline, extension.reason) == (45, deadline45, REASON)
    case = Case.objects.get(pk=application.pk)
    assert case.due_date == deadline45 and case.status == DibaoStatus.INVESTIGATION
    log = TransitionLog.objects.filter(case=case).order_by("-at", "-id").first()
    assert (log.transition, log.label, log.comment, log.actor) == (
        "extend_time_limit",
        "延长办理期限",
        REASON,
        people["chief"],
    )
    assert log.kind == "other"  # the chief stays free to confirm the case (not a maker)
    clerk = people["clerk"]
    assert set(_overdue(application, clerk, add_working_days(accepted, 30) + DAY).values()) == {False}
    assert set(_overdue(application, clerk, deadline45).values()) == {False}
    assert set(_overdue(application, clerk, deadline45 + DAY).values()) == {True}
    application = AssistanceApplication.objects.select_related("case").get(pk=application.pk)
    limit = selectors.dibao_time_limit(application, deadline45)
    assert (limit.working_days, limit.deadline, limit.overdue) == (45, deadline45, False)
    assert selectors.dibao_time_limit(application, deadline45 + DAY).overdue is True
    # Once per case
    with pytest.raises(ValidationError, match="只能延长一次"):
        services.dibao_extend_time_limit(application=application, actor=people["chief2"], reason="再次延长")
    assert TimeLimitExtension.objects.count() == 1


def test_later_steps_are_cut_to_the_extended_deadline(people, household, clock):
    application, accepted = _late_case(people, household, clock)
    _at(clock, add_working_days(accepted, 29))
    services.dibao_extend_time_limit(application=application, actor=people["chief"], reason=REASON)
    # A step started on the 43rd working day ends with the 45th, not 10 working days later.
    _at(clock, add_working_days(accepted, 43))
    from assistance.case_types import within_total_limit

    case = Case.objects.get(pk=application.pk)
    assert within_total_limit(10)(case, timezone.localdate()) == 2


def test_the_reason_is_required_and_nothing_changes(people, household, clock):
    application, accepted = _late_case(people, household, clock)
    with pytest.raises(ValidationError) as exc:
        services.dibao_extend_time_limit(application=application, actor=people["chief"], reason="  ")
    assert "reason" in exc.value.message_dict
    assert not TimeLimitExtension.objects.exists()
    assert Case.objects.get(pk=application.pk).due_date == add_working_days(accepted, 30)
    assert not TransitionLog.objects.filter(transition="extend_time_limit").exists()


@pytest.mark.parametrize("who", ["section", "reviewer", "clerk"])
def test_only_the_chief_extends(people, household, clock, who):
    application, _ = _late_case(people, household, clock)
    with pytest.raises(ValidationError, match="科长"):
        services.dibao_extend_time_limit(application=application, actor=people[who], reason=REASON)
    assert not TimeLimitExtension.objects.exists()


def test_refused_past_45_working_days_and_once_closed(people, household, clock):
    application, accepted = _late_case(people, household, clock)
    _at(clock, add_working_days(accepted, 45) + DAY)
    with pytest.raises(ValidationError, match="已超过延长后的办理期限"):
        services.dibao_extend_time_limit(application=application, actor=people["chief"], reason=REASON)
    services.dibao_application_withdraw(application=application, actor=people["clerk"], reason="申请人撤回")
    with pytest.raises(ValidationError, match="不能延长办理期限"):
        services.dibao_extend_time_limit(application=application, actor=people["chief"], reason=REASON)
    assert not TimeLimitExtension.objects.exists()


def test_the_limits_are_read_on_the_acceptance_date(people, household, clock):
    application, accepted = _late_case(people, household, clock)
    # A later change of the local parameter does not touch a case accepted before it.
    Parameter.objects.create(
        key="dibao.extended_working_days",
        name="低保审核确认延长后总时限（工作日）",
        value=Decimal("40"),
        effective_from=accepted + DAY,
        source="测试",
    )
    _at(clock, add_working_days(accepted, 29))
    extension = services.dibao_extend_time_limit(
        application=application, actor=people["chief"], reason=REASON
    )
    assert extension.working_days == 45


def _url(name, *args):
    return reverse(f"assistance:{name}", args=args)


def test_extension_on_the_case_page(client, people, household, clock):
    application, accepted = _late_case(people, household, clock)
    _at(clock, add_working_days(accepted, 29))
    detail = _url("dibao_detail", application.pk)
    step = _url("dibao_extend", application.pk)

    client.force_login(people["clerk"])
    assert 'id="step-extend"' not in client.get(detail).content.decode()
    assert client.post(step, {"reason": REASON}).status_code == 403
    client.force_login(people["section"])
    assert client.post(step, {"reason": REASON}).status_code == 403

    client.force_login(people["chief"])
    page = client.get(detail).content.decode()
    assert 'id="step-extend"' in page and "受理后30个工作日内" in page
    response = client.post(step, {"reason": ""})
    assert response.status_code == 400 and "这个字段是必填项" in response.content.decode()
    assert not TimeLimitExtension.objects.exists()
    response = client.post(step, {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == f"{detail}#time-limit"
    page = client.get(detail).content.decode()
    assert "受理后45个工作日内" in page and "已延长办理期限" in page and REASON in page
    assert 'id="step-extend"' not in page  # once per case
    assert "延长办理期限" in page  # and in the case's log


@pytest.mark.django_db(transaction=True)
def test_concurrent_extensions_record_one(make_user, regions, clock):
    people = {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "chief": make_user("科长", region="district"),
        "chief2": make_user("科长", region="district"),
    }
    with transaction.atomic():  # the services are atomic under their views
        application, accepted = _late_case(
            people, household_with_members(regions["community11"], size=2), clock
        )
    _at(clock, add_working_days(accepted, 29))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def extend(actor):
        try:
            barrier.wait()
            services.dibao_extend_time_limit(application=application, actor=actor, reason=REASON)
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=extend, args=(people[c],)) for c in ("chief", "chief2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "本案已延长过办理期限，只能延长一次"]
    assert TimeLimitExtension.objects.count() == 1
    assert TransitionLog.objects.filter(transition="extend_time_limit").count() == 1
