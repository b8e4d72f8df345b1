"""残疾人两项补贴 (flow 5): application → 受理 → 残联审核 → 民政审核 → 公示 → 科长审批 → entitlements from the
month of application → the payment run of that month; eligibility per subsidy; the monthly comparison
(应补尽补、应退尽退) with a bounded query count; the pages' permission and scope."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assistance.disability import selectors, services
from assistance.disability.case_types import DisabilityStatus
from assistance.models import DisabilitySubsidy, DisabilitySubsidyApplication
from core.accounts.templatetags.ui import money
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.selectors import standard_in_force
from core.benefits.services import entitlement_end, payment_run_recalculate
from core.registry.actions import actions_for
from core.registry.models import Person
from core.workflow.models import Case, TransitionLog
from core.workflow.services import TransitionError
from tests.factories import household_with_members

D = datetime.date
LIVING, CARE = DisabilitySubsidy.LIVING, DisabilitySubsidy.CARE


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district"),
        "chief2": make_user("科长", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
        "admin": make_user("系统管理员", region="district"),
    }


def _this_month() -> datetime.date:
    return month_start(timezone.localdate())


def _disabled(person: Person, grade: int | None, *, cert: str | None = None, category: str = "physical"):
    Person.objects.filter(pk=person.pk).update(
        disability_grade=grade,
        disability_category=category if grade else "",
        disability_cert_no=(cert or f"22010619700101{person.pk:04d}1{grade}") if grade else "",
    )
    person.refresh_from_db()
    return person


def _entitle(code: str, *, household=None, person=None, start=None, params=None) -> Entitlement:
    region_holder = household or person.household
    return Entitlement.objects.create(
        benefit_type=BenefitType.objects.get(code=code),
        household=household,
        person=person,
        region_code=region_holder.region_code,
        area_type=region_holder.area_type,
        start_month=start or D(2024, 1, 1),
        params=params or {},
    )


def _dibao_household(region, size: int = 2):
    household = household_with_members(region, size=size)
    _entitle("dibao", household=household)
    return household


def _apply(person, actor, **kwargs):
    data = {
        "subsidies": [LIVING, CARE],
        "cert_no": person.disability_cert_no or "22010619700101000011",
        "cert_generation": 3,
        "disability_category": person.disability_category or "physical",
        "disability_grade": person.disability_grade or 1,
        "long_term_care": True,
    }
    return services.disability_application_create(person=person, actor=actor, **{**data, **kwargs})


def _status(application) -> str:
    return Case.objects.get(pk=application.pk).status


def _to_chief(application, people, clock, grade: int | None = None):
    """受理 → 残联审核 → 民政审核 → 公示 on the clock's day (the test set it some days back) → today, the
    公示 passed → 科长审批."""
    today = timezone.localdate()
    services.disability_application_accept(application=application, actor=people["clerk"])
    services.disability_federation_check(
        application=application,
        actor=people["clerk"],
        grade=grade or application.disability_grade,
        opinion="经残联核定，残疾等级属实",
    )
    services.disability_household_check(
        application=application, actor=people["reviewer"], comment="家庭情况属实"
    )
    services.disability_notice_start(
        application=application, actor=people["clerk"], start_date=today, place="社区公示栏"
    )
    clock.shift(0)
    services.disability_notice_finish(application=application, actor=people["clerk"])
    assert _status(application) == DisabilityStatus.CHIEF_APPROVAL


# ---------------------------------------------------------------------------------------------------
# The flow
# ---------------------------------------------------------------------------------------------------


def test_full_flow_pays_from_the_month_of_application(people, regions, clock):
    clock.shift(-10)  # entered and handled until the 公示 ten days ago
    # Given a grade-1 physically disabled member of a 低保 household who applied last month
    household = _dibao_household(regions["community11"])
    person = _disabled(household.members.order_by("pk").last(), 1)
    applied_on = add_months(_this_month(), -1) + datetime.timedelta(days=14)
    application = _apply(person, people["clerk"], applied_on=applied_on)
    assert _status(application) == DisabilityStatus.REGISTERED

    # When it goes through every step and the 科长 approves
    _to_chief(application, people, clock)
    application.refresh_from_db()
    assert application.federation_checked is True
    assert application.eligibility == {
        LIVING: {"fits": True, "reason": "所在家庭为最低生活保障家庭，符合条件"},
        CARE: {"fits": True, "reason": "残疾等级为一级，需长期照护，符合条件"},
    }
    application = services.disability_approve(application=application, actor=people["chief"], comment="同意")

    # Then both subsidies are entitlements from the month of application (not the next month)
    start = month_start(applied_on)
    assert application.approved is True and not application.is_open
    # Every flow's decision records who decided and when (core.workflow.services.record_decide).
    assert application.decided_by == people["chief"] and application.decided_at is not None
    living, care = application.living_entitlement, application.care_entitlement
    assert living.benefit_type.code == "disability_living" and living.person_id == person.pk
    assert care.benefit_type.code == "disability_care" and care.params["tier"] == "一级"
    assert living.start_month == start and care.start_month == start
    assert living.region_code == household.region_code
    assert _status(application) == DisabilityStatus.APPROVED

    # And the payment run of that month pays them
    for entitlement, amount in ((living, "100.00"), (care, "100.00")):
        run = payment_run_recalculate(
            benefit_type=entitlement.benefit_type, month=start, actor=people["chief"]
        )
        line = PaymentLine.objects.get(run=run, entitlement=entitlement)
        assert str(line.amount) == amount and line.person_id == person.pk
        assert line.household_id == household.pk

    # The timeline records each step, the federation's grade among them
    logs = list(TransitionLog.objects.filter(case_id=application.pk).order_by("at", "id"))
    names = [log.transition for log in logs]
    assert names[:4] == ["create", "accept", "federation_check", "household_check"]
    assert names[-1] == "approve"
    assert "残联核定残疾等级：一级" in next(
        log.comment for log in logs if log.transition == "federation_check"
    )


def test_maker_checker_and_notice_required(people, regions, clock, make_user):
    household = _dibao_household(regions["community11"])
    person = _disabled(household.head, 2)
    clock.shift(-10)
    application = _apply(person, people["clerk"])
    services.disability_application_accept(application=application, actor=people["clerk"])
    services.disability_federation_check(application=application, actor=people["clerk"], grade=2)
    # The 民政审核 is the street reviewer's step: a 科长 alone is refused it, by role
    with pytest.raises(TransitionError, match="由街道审核员办理"):
        services.disability_household_check(application=application, actor=people["chief"])
    # Someone holding both roles who did the civil-affairs check may not approve the same case
    both = make_user("街道审核员", "科长", region="district")
    services.disability_household_check(application=application, actor=both)
    with pytest.raises(TransitionError):
        services.disability_notice_finish(application=application, actor=people["clerk"])  # no 公示 yet
    services.disability_notice_start(
        application=application, actor=people["clerk"], start_date=timezone.localdate(), place="社区公示栏"
    )
    clock.shift(0)  # today: the 公示 has run its course
    services.disability_notice_finish(application=application, actor=people["clerk"])
    with pytest.raises(TransitionError, match="审批"):
        services.disability_approve(application=application, actor=both)
    assert not Entitlement.objects.filter(case_id=application.pk).exists()
    services.disability_approve(application=application, actor=people["chief2"])
    assert Entitlement.objects.filter(case_id=application.pk).count() == 2


def test_first_generation_certificate_is_refused(people, regions):
    person = _disabled(_dibao_household(regions["community11"]).head, 1)
    with pytest.raises(ValidationError) as err:
        _apply(person, people["clerk"], cert_generation=1)
    assert "第一代残疾人证" in err.value.message_dict["cert_generation"][0]
    assert not DisabilitySubsidyApplication.objects.exists()
    assert not Case.objects.filter(case_type="disability_subsidy").exists()


def test_one_open_application_per_person(people, regions):
    person = _disabled(_dibao_household(regions["community11"]).head, 1)
    first = _apply(person, people["clerk"])
    with pytest.raises(ValidationError, match=first.case.number):
        _apply(person, people["clerk"])


# ---------------------------------------------------------------------------------------------------
# Eligibility per subsidy
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_dibao", "grade", "long_term_care", "living", "care"),
    [
        (True, 1, True, True, True),
        (True, 2, False, True, False),  # 重度 but no long-term care
        (True, 3, True, True, False),  # grade 3 is not 重度
        (True, 4, False, True, False),
        (False, 1, True, False, True),  # 护理补贴 does not need 低保
        (False, 3, True, False, False),
    ],
)
def test_eligibility_per_subsidy(regions, on_dibao, grade, long_term_care, living, care):
    household = household_with_members(regions["community11"], size=1)
    if on_dibao:
        _entitle("dibao", household=household)
    person = _disabled(household.head, grade)
    checks = services.subsidy_eligibility(
        person=person,
        grade=grade,
        long_term_care=long_term_care,
        subsidies=[LIVING, CARE],
        month=_this_month(),
    )
    assert {c.subsidy: c.fits for c in checks} == {LIVING: living, CARE: care}


def test_ended_dibao_does_not_qualify_and_receiving_is_not_granted_twice(regions, people):
    household = household_with_members(regions["community11"], size=1)
    dibao = _entitle("dibao", household=household)
    person = _disabled(household.head, 1)
    _entitle("disability_care", person=person, params={"tier": "一级"})
    entitlement_end(entitlement=dibao, last_month=add_months(_this_month(), -1), reason="收入超过低保标准")
    checks = {
        c.subsidy: c
        for c in services.subsidy_eligibility(
            person=person, grade=1, long_term_care=True, subsidies=[LIVING, CARE], month=_this_month()
        )
    }
    assert not checks[LIVING].fits and "不是正在享受最低生活保障" in checks[LIVING].reason
    assert not checks[CARE].fits and "已在享受" in checks[CARE].reason


def test_only_the_fitting_subsidy_is_granted(people, regions, clock):
    # A grade-3 member of a 低保 household applies for both: 生活补贴 yes, 护理补贴 no
    household = _dibao_household(regions["community11"])
    person = _disabled(household.head, 3)
    clock.shift(-10)
    application = _apply(person, people["clerk"], disability_grade=3)
    _to_chief(application, people, clock)
    application = services.disability_approve(application=application, actor=people["chief"])
    assert application.living_entitlement_id and application.care_entitlement_id is None
    assert "重度残疾人护理补贴不予批准" in application.reasons


def test_nothing_fits_stops_at_the_household_check(people, regions):
    household = household_with_members(regions["community11"], size=1)  # not a 低保 household
    person = _disabled(household.head, 3)
    application = _apply(person, people["clerk"], disability_grade=3)
    services.disability_application_accept(application=application, actor=people["clerk"])
    services.disability_federation_check(application=application, actor=people["clerk"], grade=3)
    with pytest.raises(TransitionError, match="均不符合条件"):
        services.disability_household_check(application=application, actor=people["reviewer"])
    assert _status(application) == DisabilityStatus.HOUSEHOLD_CHECK
    services.disability_refuse(application=application, actor=people["chief"], reasons="不符合两项补贴条件")
    application.refresh_from_db()
    assert application.approved is False and not application.is_open
    # Every flow's decision records who decided and when (core.workflow.services.record_decide).
    assert application.decided_by == people["chief"] and application.decided_at is not None


def test_federation_corrects_the_grade(people, regions, clock):
    household = _dibao_household(regions["community11"])
    person = _disabled(household.head, 2)
    clock.shift(-10)
    application = _apply(person, people["clerk"], disability_grade=2)
    _to_chief(application, people, clock, grade=3)  # the federation finds grade 3
    application.refresh_from_db()
    assert application.disability_grade == 3
    assert application.eligibility[CARE]["fits"] is False


# ---------------------------------------------------------------------------------------------------
# Monthly comparison (应补尽补、应退尽退)
# ---------------------------------------------------------------------------------------------------


def _comparison_world(regions, n: int) -> dict:
    """n blocks of six people: one fine, and one each of dead / cancelled / left 低保 / missing 生活补贴 /
    missing 护理补贴."""
    world: dict[str, list] = {k: [] for k in ("ok", "dead", "cancelled", "left", "add_living", "add_care")}
    month = _this_month()
    for i in range(n):
        region = regions["community11" if i % 2 == 0 else "community12"]
        ok = _disabled(_dibao_household(region, size=1).head, 2)
        world["ok"] += [
            _entitle("disability_living", person=ok),
            _entitle("disability_care", person=ok, params={"tier": "二级"}),
        ]
        dead = _disabled(_dibao_household(region, size=1).head, 3)
        world["dead"].append(_entitle("disability_living", person=dead))
        Person.objects.filter(pk=dead.pk).update(
            death_date=add_months(month, -2) + datetime.timedelta(days=3)
        )
        cancelled = _disabled(household_with_members(region, size=1).head, 1)
        world["cancelled"].append(_entitle("disability_care", person=cancelled, params={"tier": "一级"}))
        _disabled(cancelled, None)
        left_household = household_with_members(region, size=1)
        dibao = _entitle("dibao", household=left_household)
        entitlement_end(entitlement=dibao, last_month=add_months(month, -1), reason="收入超过低保标准")
        left = _disabled(left_household.head, 4)
        world["left"].append(_entitle("disability_living", person=left))
        world["add_living"].append(_disabled(_dibao_household(region, size=1).head, 4))
        world["add_care"].append(_disabled(household_with_members(region, size=1).head, 1))
    return world


def _run_comparison(user, month):
    stop = selectors.comparison_stop_list(user, month)
    living = list(selectors.comparison_add_list(user, month, LIVING))
    care = list(selectors.comparison_add_list(user, month, CARE))
    coverage = selectors.comparison_coverage(user, month)
    return stop, living, care, coverage


def test_comparison_lists_stops_and_missing(people, regions):
    world = _comparison_world(regions, 2)
    stop, living, care, coverage = _run_comparison(people["section"], _this_month())
    reasons = {row.entitlement.pk: row.reasons for row in stop}
    assert {e.pk for e in world["dead"]} <= set(reasons)
    assert all(reasons[e.pk][0] == selectors.STOP_DEATH for e in world["dead"])
    assert all(reasons[e.pk] == [selectors.STOP_CERT] for e in world["cancelled"])
    assert all(reasons[e.pk] == [selectors.STOP_DIBAO] for e in world["left"])
    assert set(reasons) == {e.pk for k in ("dead", "cancelled", "left") for e in world[k]}
    assert {p.pk for p in living} == {p.pk for p in world["add_living"]}
    # Grade 1–2 without 护理补贴: the add_care people (the "ok" ones receive it)
    assert {p.pk for p in care} == {p.pk for p in world["add_care"]}
    by_subsidy = {c.subsidy: c for c in coverage}
    # 生活补贴: in 低保 households with a certificate = ok (2) + add_living (2); the dead are excluded
    assert (by_subsidy[LIVING].eligible, by_subsidy[LIVING].covered) == (4, 2)
    assert by_subsidy[LIVING].rate == 50
    assert (by_subsidy[CARE].eligible, by_subsidy[CARE].covered) == (4, 2)


def test_comparison_scope(people, regions):
    _comparison_world(regions, 1)
    stop, living, care, coverage = _run_comparison(people["clerk21"], _this_month())
    assert stop == [] and living == [] and care == []
    assert all(c.eligible == 0 and c.rate is None for c in coverage)


def test_comparison_query_count_does_not_grow(people, regions):
    def count(n: int) -> int:
        Entitlement.objects.all().delete()
        _comparison_world(regions, n)
        with CaptureQueriesContext(connection) as ctx:
            stop, living, care, _ = _run_comparison(people["section"], _this_month())
            # What the page reads of each row comes with the same query
            shown = [
                (r.entitlement.person.household, r.entitlement.case, r.entitlement.benefit_type) for r in stop
            ]
        assert len(shown) == 3 * n and len(living) == n
        return len(ctx.captured_queries)

    assert count(5) == count(30)


def test_comparison_page_and_acting_on_lines(client, people, regions):
    world = _comparison_world(regions, 1)
    month = _this_month()
    url = reverse("assistance:disability_comparison")
    client.force_login(people["section"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"month": f"{month:%Y-%m}"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "享受人已死亡" in content and "残疾人证已注销" in content and "已退出最低生活保障" in content
    assert "覆盖率" in content and "50.0%" in content
    assert len(ctx.captured_queries) < 25

    # 停发 the 生活补贴 of the household that left 低保: paid this month, stopped from the next
    left = world["left"][0]
    response = client.post(
        reverse("assistance:disability_stop", args=[left.pk]),
        {"reason": "所在家庭已退出最低生活保障", "month": f"{month:%Y-%m}", "list": "stop"},
    )
    assert response.status_code == 302 and "list=stop" in response["Location"]
    left.refresh_from_db()
    assert left.status == Entitlement.Status.ENDED and left.end_month == month
    assert left.end_reason == "所在家庭已退出最低生活保障"
    # The dead: ended with the month of death (later months recovered by 扣回)
    dead = world["dead"][0]
    client.post(reverse("assistance:disability_stop", args=[dead.pk]), {"reason": "享受人已死亡"})
    dead.refresh_from_db()
    assert dead.end_month == month_start(dead.person.death_date)
    stop = selectors.comparison_stop_list(people["section"], month)
    assert {row.entitlement.pk for row in stop} == {world["cancelled"][0].pk}

    # 发起申请 from an "add" line: the application form pre-filled for that person and subsidy
    missing = world["add_living"][0]
    client.force_login(people["clerk"])
    response = client.get(reverse("assistance:disability_create"), {"person": missing.pk, "subsidy": LIVING})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["subsidies"] == [LIVING]
    assert form.initial["cert_no"] == missing.disability_cert_no
    # A community caseworker may not stop a subsidy
    response = client.post(
        reverse("assistance:disability_stop", args=[world["cancelled"][0].pk]), {"reason": "x"}
    )
    assert response.status_code == 403


def test_stop_logged_on_the_approving_case(people, regions, clock):
    household = _dibao_household(regions["community11"])
    person = _disabled(household.head, 1)
    clock.shift(-10)
    application = _apply(person, people["clerk"])
    _to_chief(application, people, clock)
    application = services.disability_approve(application=application, actor=people["chief"])
    Person.objects.filter(pk=person.pk).update(disability_grade=None, disability_cert_no="")
    services.disability_subsidy_stop(
        entitlement=application.care_entitlement, actor=people["section"], reason="残疾人证已注销"
    )
    log = TransitionLog.objects.filter(case_id=application.pk, transition="subsidy_stop").get()
    assert "残疾人证已注销" in log.comment and "起停发" in log.comment


# ---------------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------------


def test_views_create_detail_act_list_export(client, people, regions):
    household = _dibao_household(regions["community11"])
    person = _disabled(household.head, 1)
    client.force_login(people["clerk"])
    create = reverse("assistance:disability_create")
    assert client.get(create, {"household": household.pk}).status_code == 200
    data = {
        "person": person.pk,
        "subsidies": [LIVING, CARE],
        "cert_no": person.disability_cert_no,
        "cert_generation": "1",
        "disability_category": "physical",
        "disability_grade": "1",
        "long_term_care": "on",
        "applied_on": timezone.localdate().isoformat(),
    }
    response = client.post(f"{create}?person={person.pk}", data)
    assert response.status_code == 400 and "第一代残疾人证" in response.content.decode()
    response = client.post(f"{create}?person={person.pk}", {**data, "cert_generation": "2"})
    application = DisabilitySubsidyApplication.objects.get(person=person)
    detail = reverse("assistance:disability_detail", args=[application.pk])
    # Back on the business page at the next step's form
    assert response.status_code == 302 and response["Location"] == f"{detail}#next"

    response = client.get(detail)
    assert response.status_code == 200 and "乡镇（街道）受理" in response.content.decode()
    transition = reverse("assistance:disability_transition", args=[application.pk])
    client.post(transition, {"name": "accept"})
    # 残联审核 is the step's form (it needs the grade): no bare button for the move, and a bare POST of it
    # is refused
    content = client.get(detail).content.decode()
    federation = reverse("assistance:disability_federation_check", args=[application.pk])
    assert f'href="{federation}"' in content and 'value="federation_check"' not in content
    client.post(transition, {"name": "federation_check"})
    assert _status(application) == DisabilityStatus.FEDERATION_REVIEW
    assert client.get(federation).context["form"].initial == {"grade": 1}
    response = client.post(federation, {"grade": "1", "opinion": "等级属实"})
    assert response.status_code == 302 and response["Location"] == f"{detail}#eligibility"
    assert _status(application) == DisabilityStatus.HOUSEHOLD_CHECK
    # A community caseworker may not do the civil-affairs check: refused with a message, nothing moves
    response = client.post(transition, {"name": "household_check"}, follow=True)
    assert _status(application) == DisabilityStatus.HOUSEHOLD_CHECK
    assert "街道审核员" in response.content.decode()
    response = client.get(detail)
    assert "残联核定残疾等级：一级" in response.content.decode()

    list_url = reverse("assistance:disability_list")
    response = client.get(list_url, {"subsidy": CARE, "status": "open", "q": person.name})
    assert response.status_code == 200 and application.case.number in response.content.decode()
    response = client.get(list_url, {"subsidy": CARE, "status": "refused"})
    assert application.case.number not in response.content.decode()
    response = client.get(list_url, {"export": "xlsx", "status": "open"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][0] == "案件编号" and rows[1][0] == application.case.number


def test_views_permission_and_scope(client, people, regions):
    person = _disabled(_dibao_household(regions["community11"]).head, 1)
    application = _apply(person, people["clerk"])
    detail = reverse("assistance:disability_detail", args=[application.pk])
    client.force_login(people["clerk21"])  # another street
    assert client.get(detail).status_code == 404
    assert (
        client.post(
            reverse("assistance:disability_transition", args=[application.pk]), {"name": "accept"}
        ).status_code
        == 404
    )
    assert client.get(reverse("assistance:disability_create"), {"person": person.pk}).status_code == 404
    assert _status(application) == DisabilityStatus.REGISTERED
    client.force_login(people["admin"])  # no case permissions
    assert client.get(reverse("assistance:disability_list")).status_code == 403
    assert client.get(detail).status_code == 403
    assert client.get(reverse("assistance:disability_comparison")).status_code == 403


def test_list_query_count_is_bounded(client, people, regions, django_assert_max_num_queries):
    for _ in range(6):
        _apply(_disabled(_dibao_household(regions["community11"]).head, 1), people["clerk"])
    client.force_login(people["clerk"])
    with django_assert_max_num_queries(15):
        response = client.get(reverse("assistance:disability_list"))
    assert response.status_code == 200


def test_objection_sends_back_to_the_household_check_and_a_new_notice_follows(client, people, regions, clock):
    household = _dibao_household(regions["community11"])
    person = _disabled(household.head, 1)
    clock.shift(-10)
    application = _apply(person, people["clerk"])
    today = timezone.localdate()
    services.disability_application_accept(application=application, actor=people["clerk"])
    services.disability_federation_check(application=application, actor=people["clerk"], grade=1)
    services.disability_household_check(application=application, actor=people["reviewer"])
    services.disability_notice_start(
        application=application, actor=people["clerk"], start_date=today, place="社区公示栏"
    )
    client.force_login(people["clerk"])
    detail = reverse("assistance:disability_detail", args=[application.pk])
    assert "登记异议" in client.get(detail).content.decode()
    services.disability_notice_object(
        application=application, actor=people["clerk"], objection="群众反映其已外出务工"
    )
    assert _status(application) == DisabilityStatus.HOUSEHOLD_CHECK
    services.disability_household_check(
        application=application, actor=people["reviewer"], comment="异议不成立"
    )
    with pytest.raises(TransitionError):
        services.disability_notice_finish(application=application, actor=people["clerk"])
    services.disability_notice_start(
        application=application, actor=people["clerk"], start_date=today, place="社区公示栏"
    )
    clock.shift(0)  # today: the new 公示 has run its course
    services.disability_notice_finish(application=application, actor=people["clerk"])
    client.force_login(people["chief"])
    response = client.post(
        reverse("assistance:disability_transition", args=[application.pk]),
        {"name": "approve", "comment": "同意"},
    )
    assert response.status_code == 302 and _status(application) == DisabilityStatus.APPROVED
    content = client.get(detail).content.decode()
    assert (
        "审批通过" in content and "困难残疾人生活补贴" in content and "重度残疾人护理补贴（一级）" in content
    )


def test_person_and_household_pages_offer_the_application(client, people, regions):
    household = _dibao_household(regions["community11"])
    client.force_login(people["clerk"])
    url = reverse("assistance:disability_create")
    household_page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "申请两项补贴" in household_page and f"{url}?household={household.pk}" in household_page
    # Registered for the person page too (shown there once the registry renders person actions)
    person_actions = actions_for("person", household.head, people["clerk"])
    assert ("申请两项补贴", f"{url}?person={household.head.pk}") in [(a.label, u) for a, u in person_actions]
    chief_actions = actions_for("person", household.head, people["chief"])  # no workflow.add_case
    assert all(a.url_name != "assistance:disability_create" for a, _ in chief_actions)
    # Without a household: the kit's household picker first, then the form's choice of member
    response = client.get(url, {"q": household.head.name})
    assert response.status_code == 200 and household in response.context["households"]
    response = client.get(url, {"household": household.pk})
    members = list(response.context["form"].fields["person"].queryset)
    assert members == list(household.members.filter(death_date__isnull=True).order_by("pk"))


def test_detail_proposes_the_monthly_subsidy_at_the_standards_in_force(client, people, regions):
    # Given a grade-2 member of a 低保 household applying for both subsidies
    household = _dibao_household(regions["community11"])
    application = _apply(_disabled(household.head, 2), people["clerk"])
    month = _this_month()
    living = standard_in_force(
        BenefitType.objects.get(code="disability_living"), household.area_type, "", month
    ).amount
    care = BenefitType.objects.get(code="disability_care")
    care_1 = standard_in_force(care, household.area_type, "一级", month).amount
    care_2 = standard_in_force(care, household.area_type, "二级", month).amount
    client.force_login(people["clerk"])

    # Then the page proposes both, the care subsidy at the grade's tier
    response = client.get(reverse("assistance:disability_detail", args=[application.pk]))
    proposal = response.context["proposal"]
    assert proposal.amount == living + care_2 and not proposal.error
    assert [label for label, _ in proposal.lines] == ["困难残疾人生活补贴", "重度残疾人护理补贴（二级）"]
    assert money(living + care_2) in response.content.decode()

    # A subsidy that does not fit (the household is not on 低保) is not proposed, and the note says so
    other = _disabled(household_with_members(regions["community11"], size=1).head, 1)
    application = _apply(other, people["clerk"])
    proposal = client.get(reverse("assistance:disability_detail", args=[application.pk])).context["proposal"]
    assert proposal.amount == care_1
    assert "困难残疾人生活补贴不符合条件" in proposal.note


def test_create_from_the_household_takes_the_member_and_the_registry_certificate(client, people, regions):
    household = _dibao_household(regions["community11"], size=3)
    person = _disabled(household.members.order_by("pk").last(), 1)
    outsider = _disabled(_dibao_household(regions["community11"]).head, 1)
    client.force_login(people["clerk"])
    url = f"{reverse('assistance:disability_create')}?household={household.pk}"
    data = {"subsidies": [LIVING], "cert_generation": "3", "applied_on": timezone.localdate().isoformat()}

    # A person of another household is no choice
    response = client.post(url, {**data, "person": outsider.pk})
    assert response.status_code == 400 and "person" in response.context["form"].errors
    # A member with no certificate in the registry and none typed: the service's own field errors
    bare = household.members.exclude(pk=person.pk).filter(disability_grade__isnull=True).first()
    response = client.post(url, {**data, "person": bare.pk})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "请填写残疾人证号" in errors["cert_no"][0] and "disability_grade" in errors
    # The certificate left empty is taken from the chosen member's registry record
    response = client.post(url, {**data, "person": person.pk})
    application = DisabilitySubsidyApplication.objects.get(person=person)
    assert response.status_code == 302
    assert application.cert_no == person.disability_cert_no
    assert (application.disability_grade, application.disability_category) == (1, "physical")
    assert not DisabilitySubsidyApplication.objects.filter(person__in=[outsider, bare]).exists()


def test_withdraw_closes_the_application_and_a_new_one_may_follow(people, regions):
    person = _disabled(_dibao_household(regions["community11"]).head, 1)
    application = _apply(person, people["clerk"])
    services.disability_transition(
        application=application, name="withdraw", actor=people["clerk"], comment="申请人撤回"
    )
    application.refresh_from_db()
    assert application.is_open is False and _status(application) == DisabilityStatus.WITHDRAWN
    assert _apply(person, people["clerk"]).is_open is True
