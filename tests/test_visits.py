"""探访关爱 (issue 11 part 1): due dates by frequency and risk across month and year ends, coverage
arithmetic (one visit serving two programmes counts once in each), the due and overdue lists at their
boundary, scope and sections, refusals that save nothing, one open enrolment per programme under
concurrency, the suggestion rules and the pages."""

from __future__ import annotations

import datetime
import importlib
import io
import threading
from decimal import Decimal

import openpyxl
import pytest
from django.apps import apps as global_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.benefits.models import BenefitType, Entitlement, Parameter
from core.registry import facts
from core.registry.choices import FactKind
from core.registry.models import Membership, Person, Region
from core.visits import services
from core.visits.lists import DueThisMonthList, OverdueList
from core.visits.models import Enrollment, SuggestionDismissal, Visit, VisitEnrollment
from core.visits.programmes import add_months, due_after, find_programme, month_bounds
from core.visits.selectors import coverage, suggestions
from tests.factories import HouseholdFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
ELDER = "elder_special"
ASSIST = "assistance_key"
CHILD = "child_difficult"
CASEWORKER = "社区经办人"


@pytest.fixture
def actor(make_user):
    return make_user(CASEWORKER, region="community11")


def person_in(region, *, birth: datetime.date = datetime.date(1950, 5, 5), **fields) -> Person:
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    person = PersonFactory(household=household, relation="head", birth_date=birth, **fields)
    Membership.objects.create(person=person, household=household, relation="head", joined_on=D(2020, 1, 1))
    household.head = person
    household.save(update_fields=["head"])
    return person


def enrol(person, code, joined_on, actor, reason="测试"):
    return services.enrollment_create(
        persons=[person], programme_code=code, joined_on=joined_on, actor=actor, reason=reason
    )[0]


def visit(person, day, actor, risk="low", **kwargs):
    kwargs.setdefault("way", "home")
    kwargs.setdefault("findings", "身体状况良好")
    return services.visit_record(person=person, visited_on=day, risk_level=risk, actor=actor, **kwargs)


def due_of(person, code) -> datetime.date:
    return Enrollment.objects.get(person=person, programme=code, left_on__isnull=True).next_due_on


# --- due-date arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "due"),
    [
        (D(2027, 1, 31), 1, D(2027, 2, 28)),  # month end, common year
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # month end, leap year
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),  # year end
        (D(2025, 12, 31), 1, D(2026, 1, 31)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),  # quarterly across the year end
        (D(2026, 1, 31), Decimal("0.5"), D(2026, 2, 15)),  # half of January's 31 days, rounded down
        (D(2027, 2, 10), Decimal("0.5"), D(2027, 2, 24)),  # half of February's 28 days
        (D(2025, 12, 20), Decimal("0.5"), D(2026, 1, 4)),  # across the year end
        (D(2025, 12, 20), Decimal("1.5"), D(2026, 2, 4)),
    ],
)
def test_due_after_calendar_months(start, months, due):
    assert due_after(start, months) == due


def test_due_after_refuses_a_non_positive_interval():
    with pytest.raises(ValueError):
        due_after(D(2026, 1, 1), 0)
    assert add_months(D(2026, 1, 31), -2) == D(2025, 11, 30)


def test_next_due_follows_the_risk_level_of_the_last_visit_across_month_and_year_ends(actor, regions):
    person = person_in(regions["community11"], disability_grade=1, disability_category="physical")
    enrol(person, ELDER, D(2025, 11, 30), actor)
    # Not yet visited: joined_on + the 低-risk interval (1 month for elders).
    assert due_of(person, ELDER) == D(2025, 12, 30)

    visit(person, D(2025, 12, 31), actor, risk="low")
    assert due_of(person, ELDER) == D(2026, 1, 31)  # year end
    visit(person, D(2026, 1, 31), actor, risk="medium")
    assert due_of(person, ELDER) == D(2026, 2, 28)  # month end: no 31 February
    visit(person, D(2026, 2, 28), actor, risk="high")
    assert due_of(person, ELDER) == D(2026, 3, 14)  # twice a month: half of February's 28 days

    # A visit recorded late with an earlier date does not move the due day back.
    visit(person, D(2026, 2, 1), actor, risk="low")
    enrollment = Enrollment.objects.get(person=person, programme=ELDER)
    assert (enrollment.last_visited_on, enrollment.last_risk_level, enrollment.next_due_on) == (
        D(2026, 2, 28),
        "high",
        D(2026, 3, 14),
    )


def test_children_quarterly_and_monthly_when_high_risk(actor, regions):
    child = person_in(regions["community11"], birth=D(2015, 6, 1))
    enrol(child, CHILD, D(2025, 11, 30), actor, reason="留守儿童")
    assert due_of(child, CHILD) == D(2026, 2, 28)
    visit(child, D(2025, 12, 31), actor, risk="high")
    assert due_of(child, CHILD) == D(2026, 1, 31)
    visit(child, D(2026, 1, 31), actor, risk="low")
    assert due_of(child, CHILD) == D(2026, 4, 30)


def test_the_interval_in_force_on_the_visit_date_applies(actor, regions):
    Parameter.objects.filter(key=f"visits.interval.{ELDER}.low").update(effective_to=D(2026, 5, 31))
    Parameter.objects.create(
        key=f"visits.interval.{ELDER}.low", name="测试", value=Decimal("2"), effective_from=D(2026, 6, 1)
    )
    person = person_in(regions["community11"], birth=D(1940, 1, 1))
    enrol(person, ELDER, D(2026, 5, 1), actor)
    visit(person, D(2026, 5, 10), actor)
    assert due_of(person, ELDER) == D(2026, 6, 10)
    visit(person, D(2026, 6, 10), actor)
    assert due_of(person, ELDER) == D(2026, 8, 10)


# --- one visit, every programme; coverage -------------------------------------------------------------


def test_one_visit_serves_every_open_enrolment_and_counts_once_per_programme(actor, regions, make_user):
    month = D(2026, 3, 1)
    both = person_in(
        regions["community11"], birth=D(1950, 1, 1), disability_grade=1, disability_category="physical"
    )
    elder_only = person_in(regions["community11"], birth=D(1945, 1, 1))
    left_before = person_in(regions["community11"], birth=D(1945, 1, 1))
    joined_after = person_in(regions["community11"], birth=D(1945, 1, 1))
    left_during = person_in(regions["community12"], birth=D(1945, 1, 1))
    for person in (both, elder_only, left_before, joined_after):
        enrol(person, ELDER, D(2026, 1, 1), actor if person is not joined_after else actor)
    street = make_user("街道审核员", region="street1")
    enrol(left_during, ELDER, D(2026, 1, 1), street)
    enrol(both, ASSIST, D(2026, 2, 1), actor)
    services.enrollment_leave(
        enrollment=Enrollment.objects.get(person=left_before),
        left_on=D(2026, 2, 28),
        reason="迁出",
        actor=actor,
    )
    Enrollment.objects.filter(person=joined_after).update(joined_on=D(2026, 4, 1))
    services.enrollment_leave(
        enrollment=Enrollment.objects.get(person=left_during),
        left_on=D(2026, 3, 15),
        reason="死亡",
        actor=street,
    )

    one = visit(both, D(2026, 3, 10), actor, risk="medium")
    visit(both, D(2026, 3, 20), actor)  # a second visit in the month changes no count
    visit(elder_only, D(2026, 2, 27), actor)  # the month before: not this month's coverage

    assert sorted(VisitEnrollment.objects.filter(visit=one).values_list("programme", flat=True)) == [
        ASSIST,
        ELDER,
    ]
    district = make_user("局领导", region="district")
    result = coverage(district, month)
    totals = {row.programme: (row.enrolled, row.visited) for row in result.totals}
    # elder: both, elder_only and left_during (left mid-month) were enrolled; only `both` was visited
    assert totals == {ELDER: (3, 1), ASSIST: (1, 1)}
    communities = {(row.code, row.programme): (row.enrolled, row.visited) for row in result.communities}
    assert communities == {
        (regions["community11"].code, ELDER): (2, 1),
        (regions["community11"].code, ASSIST): (1, 1),
        (regions["community12"].code, ELDER): (1, 0),
    }
    street_row = next(r for r in result.streets if r.programme == ELDER)
    assert (street_row.code, street_row.enrolled, street_row.visited) == (regions["street1"].code, 3, 1)
    assert street_row.rate == Decimal("33.3")
    assert street_row.target == Decimal("1") and street_row.meets_target is False
    assert next(r for r in result.totals if r.programme == ASSIST).meets_target is True

    # The community caseworker sees only the community; the programme filter narrows.
    mine = coverage(actor, month, ASSIST)
    assert [(r.code, r.enrolled, r.visited) for r in mine.communities] == [
        (regions["community11"].code, 1, 1)
    ]


def test_coverage_is_two_queries_whatever_the_number_of_communities(
    actor, regions, django_assert_max_num_queries
):
    enroller = _district_user("街道审核员")  # a general role: the district is its scope
    for key in ("community11", "community12", "community21", "community22"):
        enrol(person_in(regions[key]), ELDER, D(2026, 1, 1), enroller)
    user = _district_user()
    with django_assert_max_num_queries(6):
        result = coverage(user, D(2026, 2, 1))
    assert sum(r.enrolled for r in result.communities) == 4


def _district_user(role: str = "局领导"):
    return UserFactory(roles=[role], region=Region.objects.get(code="220106000000"))


# --- the lists at their boundary ------------------------------------------------------------------------


def test_overdue_and_due_lists_at_the_boundary(actor, regions, clock):
    today = timezone.localdate()
    first, last = month_bounds(today)
    due_today = person_in(regions["community11"], name="今天到期")
    due_yesterday = person_in(regions["community11"], name="昨天到期")
    due_next_month = person_in(regions["community11"], name="下月到期")
    for person in (due_today, due_yesterday, due_next_month):
        enrol(person, ELDER, D(2026, 1, 1), actor)
    Enrollment.objects.filter(person=due_today).update(next_due_on=today)
    Enrollment.objects.filter(person=due_yesterday).update(next_due_on=today - datetime.timedelta(days=1))
    Enrollment.objects.filter(person=due_next_month).update(next_due_on=last + datetime.timedelta(days=1))

    overdue = set(OverdueList.queryset(actor).values_list("person__name", flat=True))
    due = set(DueThisMonthList.queryset(actor).values_list("person__name", flat=True))
    assert overdue == {"昨天到期"}
    assert "今天到期" in due and "下月到期" not in due
    assert ("昨天到期" in due) == (today - datetime.timedelta(days=1) >= first)

    # Visiting the overdue person takes them off the overdue list.
    visit(due_yesterday, today, actor)
    assert not OverdueList.queryset(actor).exists()
    # A person who left is on no list.
    services.enrollment_leave(
        enrollment=Enrollment.objects.get(person=due_today), left_on=today, reason="入住养老机构", actor=actor
    )
    assert "今天到期" not in set(DueThisMonthList.queryset(actor).values_list("person__name", flat=True))


def test_list_pages_render_and_export(client, actor, regions):
    person = person_in(regions["community11"], name="王大爷")
    enrol(person, ELDER, D(2026, 1, 1), actor)
    visit(
        person,
        timezone.localdate(),
        actor,
        risk="high",
        needs=["medical", "other"],
        needs_other='=HYPERLINK("x")',
        follow_up="联系家庭医生",
        follow_up_due=timezone.localdate(),
    )
    client.force_login(actor)
    for name in ("due_list", "overdue_list", "followups_list", "visits_list", "enrollments_list"):
        response = client.get(reverse(f"visits:{name}"))
        assert response.status_code == 200, name
    page = client.get(reverse("visits:followups_list")).content.decode()
    assert "王大爷" in page and "联系家庭医生" in page
    export = client.get(reverse("visits:visits_list") + "?export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.values)
    assert rows[1][1] == "王大爷"
    # The text a caseworker typed that looks like a formula is written as text, never as a formula.
    cells = [cell for cell in sheet[2] if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert cells and all(cell.data_type == "s" for cell in cells)
    # The due list links each person to the visit entry page (one tap).
    Enrollment.objects.filter(person=person).update(next_due_on=timezone.localdate())
    due_page = client.get(reverse("visits:due_list")).content.decode()
    assert reverse("visits:visit_create", args=[person.pk]) in due_page


# --- scope and sections -------------------------------------------------------------------------------------


def test_a_caseworker_of_another_community_gets_404_and_cannot_record(client, actor, regions, make_user):
    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), actor)
    other = make_user(CASEWORKER, region="community12")
    client.force_login(other)
    url = reverse("visits:visit_create", args=[person.pk])
    assert client.get(url).status_code == 404
    response = client.post(
        url, {"visited_on": "2026-11-01", "way": "home", "risk_level": "low", "findings": "x"}
    )
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        visit(person, D(2026, 11, 1), other)
    assert not Visit.objects.exists()
    assert not Enrollment.objects.visible_to(other).exists()
    assert coverage(other, D(2026, 11, 1)).communities == []


def test_district_staff_see_and_record_only_their_sections_programmes(actor, regions, make_user):
    person = person_in(regions["community11"])
    enrol(person, ASSIST, D(2026, 1, 1), actor)
    elder_chief = make_user("科室经办人", region="district", sections=["eldercare"])
    assistance_clerk = make_user("科室经办人", region="district", sections=["assistance"])
    assert not Enrollment.objects.visible_to(elder_chief).exists()
    with pytest.raises(ValidationError) as refused:
        visit(person, D(2026, 11, 1), elder_chief)
    assert "不属于您所在的科室" in str(refused.value)
    with pytest.raises(PermissionDenied):
        enrol(person_in(regions["community11"]), ASSIST, D(2026, 1, 1), elder_chief)
    made = visit(person, D(2026, 11, 1), assistance_clerk)
    assert Visit.objects.visible_to(assistance_clerk).filter(pk=made.pk).exists()
    assert not Visit.objects.visible_to(elder_chief).filter(pk=made.pk).exists()
    leader = make_user("局领导", region="district")
    assert Visit.objects.visible_to(leader).filter(pk=made.pk).exists()
    with pytest.raises(PermissionDenied):
        visit(person, D(2026, 11, 2), leader)


# --- bad input saves nothing --------------------------------------------------------------------------


def test_a_future_visit_date_is_refused_and_nothing_is_saved(client, actor, regions):
    person = person_in(regions["community11"])
    enrollment = enrol(person, ELDER, D(2026, 1, 1), actor)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        visit(person, tomorrow, actor)
    assert "探访日期不能晚于今天" in str(refused.value)
    client.force_login(actor)
    response = client.post(
        reverse("visits:visit_create", args=[person.pk]),
        {
            "visited_on": tomorrow.isoformat(),
            "way": "home",
            "risk_level": "low",
            "findings": "良好",
            "visitors": [actor.pk],
        },
    )
    assert response.status_code == 200
    assert "探访日期不能晚于今天" in response.content.decode()
    assert not Visit.objects.exists() and not VisitEnrollment.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.last_visited_on is None and enrollment.next_due_on == D(2026, 2, 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"way": "letter"}, "way"),
        ({"risk": "extreme"}, "risk_level"),
        ({"needs": ["other"]}, "needs_other"),
        ({"needs": ["flying"]}, "needs"),
        ({"findings": "   "}, "findings"),
        ({"follow_up": "送药", "follow_up_due": D(2026, 10, 1)}, "follow_up_due"),
        ({"follow_up_due": D(2026, 11, 30)}, "follow_up_due"),
        ({"follow_up": "送药"}, "follow_up_due"),
        ({"day": D(2025, 12, 31)}, "visited_on"),  # before joining: no open enrolment that day
    ],
)
def test_bad_visit_input_saves_nothing(actor, regions, kwargs, field):
    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), actor)
    day = kwargs.pop("day", D(2026, 11, 1))
    risk = kwargs.pop("risk", "low")
    with pytest.raises(ValidationError) as refused:
        visit(person, day, actor, risk=risk, **kwargs)
    assert field in refused.value.message_dict
    assert not Visit.objects.exists()


def test_a_visitor_from_another_street_is_refused(actor, regions, make_user):
    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), actor)
    stranger = make_user(CASEWORKER, region="community21")
    colleague = make_user("街道审核员", region="street1")
    with pytest.raises(ValidationError) as refused:
        visit(person, D(2026, 11, 1), actor, visitors=[actor, stranger])
    assert "visitors" in refused.value.message_dict
    made = visit(person, D(2026, 11, 1), actor, visitors=[actor, colleague])
    assert set(made.visitors.values_list("pk", flat=True)) == {actor.pk, colleague.pk}


def test_visitors_offered_are_those_who_record_visits(actor, regions, make_user):
    person = person_in(regions["community11"])
    colleague = make_user("街道审核员", region="street1")
    admin = make_user("系统管理员", region="district")
    leader = make_user("局领导", region="district")
    offered = set(services.visitor_candidates(person))
    assert {actor, colleague} <= offered
    assert admin not in offered and leader not in offered


def test_an_unknown_programme_is_refused_and_nothing_is_saved(actor, regions):
    person = person_in(regions["community11"])
    with pytest.raises(ValidationError) as refused:
        enrol(person, "no_such_programme", D(2026, 1, 1), actor)
    assert refused.value.message_dict == {"programme": ["未知的探访关爱项目，请从列表中选择"]}
    with pytest.raises(ValidationError):
        services.enrollment_create(
            persons=[person], programme_code=ELDER, joined_on=D(2099, 1, 1), actor=actor
        )
    assert not Enrollment.objects.exists()


def test_a_batch_with_one_person_already_enrolled_enrols_nobody(actor, regions):
    first = person_in(regions["community11"], name="甲")
    second = person_in(regions["community11"], name="乙")
    enrol(first, ELDER, D(2026, 1, 1), actor)
    with pytest.raises(ValidationError) as refused:
        services.enrollment_create(
            persons=[first, second], programme_code=ELDER, joined_on=D(2026, 2, 1), actor=actor
        )
    assert "甲已于2026年1月1日纳入" in str(refused.value)
    assert not Enrollment.objects.filter(person=second).exists()
    # After leaving, the person may join again (one OPEN enrolment per programme).
    services.enrollment_leave(
        enrollment=Enrollment.objects.get(person=first), left_on=D(2026, 3, 1), reason="暂时外出", actor=actor
    )
    enrol(first, ELDER, D(2026, 4, 1), actor)
    assert Enrollment.objects.filter(person=first).count() == 2


def test_follow_up_done(actor, regions, client):
    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), actor)
    made = visit(person, D(2026, 11, 1), actor, follow_up="联系家庭医生", follow_up_due=D(2026, 11, 8))
    with pytest.raises(ValidationError):
        services.visit_follow_up_done(visit=made, done_on=D(2026, 10, 31), result="已联系", actor=actor)
    client.force_login(actor)
    response = client.post(
        reverse("visits:followup_done", args=[made.pk]), {"done_on": "2026-11-05", "result": "医生已上门"}
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.follow_up_done_on == D(2026, 11, 5) and made.follow_up_done_by == actor


# --- one open enrolment per programme under concurrency ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_enrol_once(make_user, regions):
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    importlib.import_module("core.visits.migrations.0002_visit_parameters").seed(global_apps, None)
    first = make_user(CASEWORKER, region="community11")
    second = make_user("街道审核员", region="street1")
    person = person_in(regions["community11"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(user):
        try:
            barrier.wait()
            services.enrollment_create(
                persons=[person.pk], programme_code=ELDER, joined_on=D(2026, 1, 1), actor=user
            )
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Enrollment.objects.filter(person=person, programme=ELDER, left_on__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_second_open_enrolment(make_user, regions):
    from django.db import IntegrityError

    importlib.import_module("core.visits.migrations.0002_visit_parameters").seed(global_apps, None)
    user = make_user(CASEWORKER, region="community11")
    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), user)
    with pytest.raises(IntegrityError):
        Enrollment.objects.create(
            person=person,
            programme=ELDER,
            joined_on=D(2026, 2, 1),
            rule_text="x",
            confirmed_by=user,
            region_code=person.region_code,
            next_due_on=D(2026, 3, 1),
        )


# --- suggestion rules and the suggestion page ------------------------------------------------------------


def _entitlement(code, *, person=None, household=None, **params):
    region_code = (person or household).region_code
    return Entitlement.objects.create(
        benefit_type=BenefitType.objects.get(code=code),
        person=person,
        household=household,
        region_code=region_code,
        area_type="urban",
        start_month=D(2025, 1, 1),
        params=params,
    )


def test_the_rules_suggest_from_registry_facts_and_entitlements(actor, regions):
    today = timezone.localdate()
    c11 = regions["community11"]
    aged_85 = person_in(c11, name="高龄", birth=D(1940, 3, 1))
    alone_65 = person_in(c11, name="独居", birth=D(1960, 3, 1))
    facts.fact_record(
        subject=alone_65,
        kind=FactKind.LIVING_ALONE,
        valid_from=D(2025, 1, 1),
        source="home_visit",
        actor=actor,
    )
    plain_65 = person_in(c11, name="普通", birth=D(1960, 3, 1))
    alone_50 = person_in(c11, name="五十岁独居", birth=D(1975, 3, 1))
    facts.fact_record(
        subject=alone_50,
        kind=FactKind.LIVING_ALONE,
        valid_from=D(2025, 1, 1),
        source="home_visit",
        actor=actor,
    )
    dispersed = person_in(c11, name="分散特困", birth=D(1958, 1, 1))
    _entitlement("tekun_basic", person=dispersed, tier="分散供养")
    dibao_head = person_in(c11, name="低保重病", birth=D(1980, 1, 1), serious_illness=True)
    _entitlement("dibao", household=dibao_head.household)
    child = PersonFactory(
        household=dibao_head.household, relation="child", birth_date=D(2016, 1, 1), name="低保儿童"
    )
    dead_elder = person_in(c11, name="已故", birth=D(1930, 1, 1), death_date=D(2025, 1, 1))

    elder = find_programme(ELDER)
    names = set(suggestions(actor, elder, today).values_list("name", flat=True))
    assert {"高龄", "独居", "分散特困"} <= names
    assert not {"普通", "五十岁独居", "已故", "低保重病"} & names
    assistance = set(suggestions(actor, find_programme(ASSIST), today).values_list("name", flat=True))
    assert assistance == {"分散特困", "低保重病"}
    children = set(suggestions(actor, find_programme(CHILD), today).values_list("name", flat=True))
    assert children == {"低保儿童"}
    assert child.pk and aged_85.pk and plain_65.pk and dead_elder.pk
    # Enrolled or dismissed persons are no longer suggested.
    enrol(aged_85, ELDER, today, actor)
    services.suggestion_dismiss(
        persons=[alone_65], programme_code=ELDER, reason="已入住养老机构", actor=actor
    )
    names = set(suggestions(actor, elder, today).values_list("name", flat=True))
    assert "高龄" not in names and "独居" not in names
    assert SuggestionDismissal.objects.get(person=alone_65).reason == "已入住养老机构"


def test_suggestion_page_confirms_many_at_once_and_dismisses(client, actor, regions):
    c11 = regions["community11"]
    a = person_in(c11, name="赵老", birth=D(1940, 1, 1))
    b = person_in(c11, name="钱老", birth=D(1941, 1, 1))
    c = person_in(c11, name="孙老", birth=D(1942, 1, 1))
    client.force_login(actor)
    url = reverse("visits:suggestions") + f"?programme={ELDER}"
    page = client.get(url).content.decode()
    assert "赵老" in page and "钱老" in page and "孙老" in page
    response = client.post(
        url, {"action": "confirm", "programme": ELDER, "persons": [a.pk, b.pk], "joined_on": "2026-11-01"}
    )
    assert response.status_code == 302
    rows = Enrollment.objects.filter(programme=ELDER).order_by("person__name")
    assert {r.person_id for r in rows} == {a.pk, b.pk}
    assert all(r.rule_text == find_programme(ELDER).rule_text and r.confirmed_by == actor for r in rows)
    # Dismissing needs a reason; then the person leaves the list.
    client.post(url, {"action": "dismiss", "programme": ELDER, "persons": [c.pk], "reason": ""})
    assert not SuggestionDismissal.objects.exists()
    client.post(url, {"action": "dismiss", "programme": ELDER, "persons": [c.pk], "reason": "子女接回同住"})
    page = client.get(url).content.decode()
    assert "孙老" not in page and "赵老" not in page
    # A person the rule does not suggest cannot be "confirmed" as suggested.
    young = person_in(c11, name="年轻人", birth=D(1990, 1, 1))
    client.post(
        url, {"action": "confirm", "programme": ELDER, "persons": [young.pk], "joined_on": "2026-11-01"}
    )
    assert not Enrollment.objects.filter(person=young).exists()


def test_manual_enrolment_and_the_person_card(client, actor, regions):
    child = person_in(regions["community11"], name="小明", birth=D(2014, 1, 1))
    client.force_login(actor)
    response = client.post(
        reverse("visits:enroll", args=[child.pk]),
        {"programme": CHILD, "joined_on": "2026-10-01", "reason": "留守儿童"},
    )
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(person=child)
    assert enrollment.rule_text == "手工纳入：留守儿童"
    page = client.get(reverse("registry:person_detail", args=[child.pk])).content.decode()
    assert "探访关爱" in page and "困境儿童和留守儿童探访" in page
    assert reverse("visits:visit_create", args=[child.pk]) in page


def test_coverage_page_and_export(client, actor, regions):
    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), actor)
    visit(person, D(2026, 3, 5), actor)
    client.force_login(actor)
    page = client.get(reverse("visits:coverage") + "?month=2026-03").content.decode()
    assert "100.0%" in page
    assert "0.0%" in client.get(reverse("visits:coverage") + "?month=2026-04").content.decode()
    export = client.get(reverse("visits:coverage") + "?month=2026-03&export=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.values)
    assert rows[0][:3] == ("月份", "层级", "区划")
    assert rows[1][0] == "2026年3月" and rows[1][5:7] == (1, 1)
    bad = client.get(reverse("visits:coverage") + "?month=garbage")
    assert bad.status_code == 200 and "查询条件有误" in bad.content.decode()


@pytest.mark.parametrize("name", ["visits_list", "followups_list", "due_list", "enrollments_list"])
def test_list_pages_make_no_query_per_row(client, actor, regions, name):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def add(count):
        for _ in range(count):
            person = person_in(regions["community11"])
            enrol(person, ELDER, D(2026, 11, 1), actor)
            visit(person, timezone.localdate(), actor, follow_up="送药", follow_up_due=timezone.localdate())
        Enrollment.objects.update(next_due_on=timezone.localdate())

    client.force_login(actor)
    url = reverse(f"visits:{name}")
    add(1)
    with CaptureQueriesContext(db) as one:
        assert client.get(url).status_code == 200
    add(5)
    with CaptureQueriesContext(db) as six:
        assert client.get(url).status_code == 200
    assert len(six) == len(one)


def test_a_recorded_death_ends_the_enrolments(actor, regions):
    from core.registry import services as registry_services

    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), actor)
    enrol(person, ASSIST, D(2026, 2, 1), actor, reason="重病")
    registry_services.person_record_death(person=person, death_date=D(2026, 3, 10), actor=actor)
    rows = Enrollment.objects.filter(person=person)
    assert {(r.programme, r.left_on, r.leave_reason) for r in rows} == {
        (ELDER, D(2026, 3, 10), "死亡"),
        (ASSIST, D(2026, 3, 10), "死亡"),
    }
    assert coverage(actor, D(2026, 4, 1)).communities == []
    assert [r.enrolled for r in coverage(actor, D(2026, 3, 1)).totals] == [1, 1]


def test_a_person_who_moved_is_visited_by_the_new_community(actor, regions, make_user):
    from core.registry import services as registry_services

    person = person_in(regions["community11"])
    enrol(person, ELDER, D(2026, 1, 1), actor)
    target = HouseholdFactory(region=regions["community12"], region_code=regions["community12"].code)
    street = make_user("街道审核员", region="street1")
    registry_services.person_move(
        person=person, to_household=target, relation="other", date=D(2026, 6, 1), actor=street
    )
    person.refresh_from_db()
    new_clerk = make_user(CASEWORKER, region="community12")
    visit(person, D(2026, 6, 5), new_clerk)
    assert Enrollment.objects.visible_to(new_clerk).filter(person=person).exists()
    assert not Enrollment.objects.visible_to(actor).filter(person=person).exists()


def test_pages_of_district_staff_follow_their_section(client, actor, regions, make_user):
    person = person_in(regions["community11"], name="救助对象")
    enrol(person, ASSIST, D(2026, 1, 1), actor, reason="重病")
    elder_staff = make_user("科室经办人", region="district", sections=["eldercare"])
    client.force_login(elder_staff)
    assert "救助对象" not in client.get(reverse("visits:enrollments_list")).content.decode()
    page = client.get(reverse("visits:suggestions")).content.decode()
    assert "特殊困难老年人探访关爱" in page and "分散供养特困" not in page
    response = client.post(
        reverse("visits:visit_create", args=[person.pk]),
        {
            "visited_on": "2026-11-01",
            "way": "home",
            "risk_level": "low",
            "findings": "良好",
            "visitors": [elder_staff.pk],
        },
    )
    assert response.status_code == 200 and "不属于您所在的科室" in response.content.decode()
    assert not Visit.objects.exists()
