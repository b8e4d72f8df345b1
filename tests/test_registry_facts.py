"""Registry facts and assessments (issue 11 part 4): dated records, never flags overwritten — a level or a
fact on any date, refusals that save nothing, one open fact per subject and kind under concurrency, scope,
and the 「登记信息（有效期）」 card with its form pages."""

import datetime
import re
import threading
import time

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.forms_once import ALREADY_SUBMITTED_MESSAGE
from core.registry import facts
from core.registry import views as registry_views
from core.registry.choices import AssessmentKind, FactKind, SelfCare
from core.registry.models import Assessment, Membership, Person, PersonFact
from tests.factories import household_with_members

pytestmark = pytest.mark.django_db

CASEWORKER = "社区经办人"
D = datetime.date
ELDER = AssessmentKind.ELDER_ABILITY
TEKUN = AssessmentKind.TEKUN_SELF_CARE
TOKEN_INPUT = re.compile(r'<input type="hidden" name="form_token" value="([A-Za-z0-9_-]+)">')


@pytest.fixture
def actor(make_user):
    return make_user(CASEWORKER, region="community11")


@pytest.fixture
def household(regions):
    return household_with_members(regions["community11"], size=3)


@pytest.fixture
def person(household):
    return household.head


def record(subject, actor, kind, valid_from, value="", source="home_visit", **kwargs):
    return facts.fact_record(
        subject=subject, kind=kind, value=value, valid_from=valid_from, source=source, actor=actor, **kwargs
    )


def assess(person, actor, kind, level, assessed_on, **kwargs):
    return facts.assessment_record(
        person=person,
        kind=kind,
        level=level,
        assessor=kwargs.pop("assessor", "李评估"),
        assessor_org=kwargs.pop("assessor_org", "绿园区养老服务指导中心"),
        assessed_on=assessed_on,
        actor=actor,
        **kwargs,
    )


# ------------------------------------------------------------------------------------------- assessments


def test_default_validity_is_one_year_less_a_day():
    assert facts.default_valid_until(D(2025, 3, 1)) == D(2026, 2, 28)
    assert facts.default_valid_until(D(2024, 2, 29)) == D(2025, 2, 28)
    assert facts.default_valid_until(D(2025, 12, 31)) == D(2026, 12, 30)


def test_level_on_any_date_before_between_after_expiry_and_superseded(actor, person):
    # Given an assessment, and a re-assessment with a shorter validity
    first = assess(person, actor, ELDER, "mild", D(2025, 1, 10))
    assert first.valid_until == D(2026, 1, 9)
    assess(person, actor, ELDER, "moderate", D(2025, 7, 1), valid_until=D(2025, 9, 30))

    answers = {
        D(2025, 1, 9): None,  # before the first assessment
        D(2025, 1, 10): "mild",
        D(2025, 6, 30): "mild",
        D(2025, 7, 1): "moderate",  # the re-assessment supersedes from its date
        D(2025, 9, 30): "moderate",
        # The re-assessment expired: the first, though its year runs to 2026-01-09, does not come back.
        D(2025, 10, 1): None,
        D(2026, 6, 1): None,
    }
    for day, level in answers.items():
        assert facts.assessment_level_on(person, ELDER, day) == level, day
    # Nothing was overwritten: both rows keep their dates and levels.
    assert list(
        Assessment.objects.filter(person=person).values_list("assessed_on", "level", "valid_until")
    ) == [
        (D(2025, 7, 1), "moderate", D(2025, 9, 30)),
        (D(2025, 1, 10), "mild", D(2026, 1, 9)),
    ]
    # The other kind is not mixed in.
    assert facts.assessment_level_on(person, TEKUN, D(2025, 8, 1)) is None


def test_level_on_expiry_day_and_the_day_after(actor, person):
    assess(person, actor, ELDER, "severe", D(2024, 3, 1))
    assert facts.assessment_level_on(person, ELDER, D(2025, 2, 28)) == "severe"
    assert facts.assessment_level_on(person, ELDER, D(2025, 3, 1)) is None


def test_levels_of_many_persons_in_one_query_on_both_implementations(
    actor, household, django_assert_num_queries
):
    a, b, c = household.members.order_by("pk")
    assess(a, actor, ELDER, "mild", D(2025, 1, 10))
    assess(a, actor, ELDER, "total", D(2025, 7, 1), valid_until=D(2025, 9, 30))
    assess(b, actor, ELDER, "intact", D(2024, 3, 1))  # expired 2025-02-28
    assess(b, actor, TEKUN, "partial", D(2025, 1, 1))
    # c: never assessed
    expected = {
        D(2025, 1, 9): {b.pk: "intact"},  # before a's first
        D(2025, 2, 1): {a.pk: "mild", b.pk: "intact"},
        D(2025, 8, 1): {a.pk: "total"},
        D(2025, 10, 1): {},
    }
    for day, levels in expected.items():
        with django_assert_num_queries(1):
            assert facts.assessment_levels_on(household.members.all(), ELDER, day) == levels, day
        assert facts.assessment_levels_on([a, b.pk, c], ELDER, day) == levels
        # The portable (window) and the PostgreSQL (DISTINCT ON) readings agree, and with the one-person one.
        rows = Assessment.objects.filter(person__household=household, kind=ELDER, assessed_on__lte=day)
        readings = [facts._latest_by_window(rows)]
        if connection.vendor == "postgresql":
            readings.append(facts._latest_distinct_on(rows))
        for latest in readings:
            got = {
                p: lv
                for p, lv, until in latest.values_list("person_id", "level", "valid_until")
                if until >= day
            }
            assert got == levels
        for member in (a, b, c):
            assert facts.assessment_level_on(member, ELDER, day) == levels.get(member.pk)


def test_tekun_assessment_sets_self_care_through_the_person_service_with_history(actor, person):
    assert person.self_care == SelfCare.FULL
    history_before = person.history.count()

    assess(person, actor, TEKUN, "partial", D(2026, 1, 5))

    person.refresh_from_db()
    assert person.self_care == SelfCare.PARTIAL
    assert person.history.count() == history_before + 1
    latest = person.history.latest("history_date")
    assert latest.self_care == SelfCare.PARTIAL and latest.history_user == actor
    # A backdated assessment that the one above supersedes leaves the current value alone.
    assess(person, actor, TEKUN, "none", D(2025, 6, 1))
    person.refresh_from_db()
    assert person.self_care == SelfCare.PARTIAL
    # An elder-ability assessment never touches it.
    assess(person, actor, ELDER, "total", D(2026, 2, 1))
    person.refresh_from_db()
    assert person.self_care == SelfCare.PARTIAL


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "unknown"}, "kind", "请选择评估类别"),
        ({"level": "partial"}, "level", "请选择老年人能力评估的等级"),  # a 特困 level on the elder kind
        ({"assessed_on": "tomorrow"}, "assessed_on", "评估日期不能晚于今天"),
        ({"assessed_on": D(1899, 12, 31)}, "assessed_on", "日期超出有效范围"),
        ({"valid_until": D(2025, 3, 2)}, "valid_until", "评估有效期最长一年（至2025年3月1日）"),
        ({"valid_until": D(2024, 2, 1)}, "valid_until", "有效期不能早于评估日期"),
        ({"assessor": " \u200b "}, "assessor", "评估人员不能只由空格或零宽字符"),
        ({"assessor_org": ""}, "assessor_org", "请填写评估机构"),
        ({"assessed_on": D(2024, 3, 1)}, "assessed_on", "已有一次老年人能力评估，同一天不能重复登记"),
    ],
)
def test_assessment_refusals_save_nothing(actor, person, changes, field, message):
    assess(person, actor, ELDER, "mild", D(2024, 3, 1))
    data = {"kind": ELDER, "level": "moderate", "assessed_on": D(2024, 3, 2), **changes}
    if data["assessed_on"] == "tomorrow":
        data["assessed_on"] = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        assess(person, actor, data.pop("kind"), data.pop("level"), data.pop("assessed_on"), **data)
    assert message in excinfo.value.message_dict[field][0]
    assert Assessment.objects.filter(person=person).count() == 1


def test_assessment_out_of_scope_is_refused(make_user, person):
    stranger = make_user(CASEWORKER, region="community21")
    with pytest.raises(PermissionDenied):
        assess(person, stranger, TEKUN, "none", D(2025, 1, 1))
    assert not Assessment.objects.exists()
    person.refresh_from_db()
    assert person.self_care == SelfCare.FULL


def test_assessment_constraints_hold_in_the_database(actor, person):
    assess(person, actor, ELDER, "mild", D(2025, 1, 1))
    base = {"person": person, "assessor": "x", "assessor_org": "y", "region_code": person.region_code}
    bad_rows = [
        {
            "kind": ELDER,
            "level": "mild",
            "assessed_on": D(2025, 1, 1),
            "valid_until": D(2025, 6, 1),
        },  # same day
        {
            "kind": ELDER,
            "level": "full",
            "assessed_on": D(2025, 2, 1),
            "valid_until": D(2025, 6, 1),
        },  # wrong kind
        {
            "kind": ELDER,
            "level": "mild",
            "assessed_on": D(2025, 3, 1),
            "valid_until": D(2025, 2, 1),
        },  # backwards
    ]
    for row in bad_rows:
        with pytest.raises(IntegrityError), transaction.atomic():
            Assessment.objects.create(**base, **row)


# ------------------------------------------------------------------------------------------------- facts


def test_fact_changed_twice_is_answered_on_three_dates(actor, person):
    record(person, actor, FactKind.RESIDENCE, D(2024, 1, 1), "registered_resident")
    record(person, actor, FactKind.RESIDENCE, D(2025, 3, 1), "registered_absent", source="police_match")
    record(person, actor, FactKind.RESIDENCE, D(2026, 1, 1), "registered_resident")

    def value_on(day):
        return [(f.kind, f.value) for f in facts.facts_on(person, day)]

    assert value_on(D(2023, 12, 31)) == []
    assert value_on(D(2024, 6, 1)) == [("residence", "registered_resident")]
    assert value_on(D(2025, 2, 28)) == [("residence", "registered_resident")]
    assert value_on(D(2025, 3, 1)) == [("residence", "registered_absent")]
    assert value_on(D(2025, 12, 31)) == [("residence", "registered_absent")]
    assert value_on(D(2026, 6, 1)) == [("residence", "registered_resident")]
    # Three rows, each closed the day before the next began; one open.
    rows = list(
        PersonFact.objects.filter(person=person)
        .order_by("valid_from")
        .values_list("value", "valid_from", "valid_to")
    )
    assert rows == [
        ("registered_resident", D(2024, 1, 1), D(2025, 2, 28)),
        ("registered_absent", D(2025, 3, 1), D(2025, 12, 31)),
        ("registered_resident", D(2026, 1, 1), None),
    ]
    closed = PersonFact.objects.filter(person=person, valid_to=D(2025, 2, 28)).get()
    assert closed.ended_by == actor and "户籍不常住" in closed.end_reason


def test_persons_with_fact_on_a_date_scoped_and_by_household_membership(make_user, regions, actor, household):
    a, b, c = household.members.order_by("pk")
    record(a, actor, FactKind.LIVING_ALONE, D(2024, 1, 1))
    facts.fact_end(subject=a, kind=FactKind.LIVING_ALONE, valid_to=D(2024, 12, 31), actor=actor)
    record(b, actor, FactKind.LIVING_ALONE, D(2025, 1, 1))
    record(b, actor, FactKind.ENTITLED_GROUP, D(2025, 1, 1), "martyr_family")
    record(household, actor, FactKind.POVERTY_RELAPSE_WATCH, D(2025, 6, 1))
    # c joined the household on 2025-09-01 (moved from elsewhere)
    Membership.objects.filter(person=c).update(joined_on=D(2025, 9, 1))

    def names(kind, day, user=actor, **kwargs):
        return sorted(p.pk for p in facts.persons_with_fact(user, kind, day, **kwargs))

    assert names(FactKind.LIVING_ALONE, D(2024, 6, 1)) == [a.pk]
    assert names(FactKind.LIVING_ALONE, D(2025, 6, 1)) == [b.pk]
    assert names(FactKind.ENTITLED_GROUP, D(2025, 6, 1), value="martyr_family") == [b.pk]
    assert names(FactKind.ENTITLED_GROUP, D(2025, 6, 1), value="disabled_serviceman") == []
    assert names(FactKind.POVERTY_RELAPSE_WATCH, D(2025, 5, 31)) == []
    assert names(FactKind.POVERTY_RELAPSE_WATCH, D(2025, 7, 1)) == [a.pk, b.pk]
    assert names(FactKind.POVERTY_RELAPSE_WATCH, D(2025, 10, 1)) == [a.pk, b.pk, c.pk]
    # Dead on a day: no longer counted after it.
    Person.objects.filter(pk=b.pk).update(death_date=D(2025, 8, 1))
    assert names(FactKind.LIVING_ALONE, D(2025, 8, 1)) == [b.pk]
    assert names(FactKind.LIVING_ALONE, D(2025, 8, 2)) == []
    # Scope: a caseworker of another community sees none of them; the street's reviewer sees them.
    assert (
        names(
            FactKind.POVERTY_RELAPSE_WATCH, D(2025, 10, 1), user=make_user(CASEWORKER, region="community21")
        )
        == []
    )
    assert names(
        FactKind.POVERTY_RELAPSE_WATCH, D(2025, 10, 1), user=make_user("街道审核员", region="street1")
    ) == [
        a.pk,
        c.pk,
    ]
    with pytest.raises(ValueError):
        facts.persons_with_fact(actor, "nonsense", D(2025, 1, 1))


REFUSALS = [
    # (changes, key, message)
    ({"valid_from": "tomorrow"}, "valid_from", "起始日期不能晚于今天"),
    (
        {"valid_from": D(2025, 1, 1)},
        "valid_from",
        "起始日期须晚于现有“户籍/常住状况：户籍且常住”的起始日期（2025年1月1日）",
    ),
    ({"valid_from": D(2024, 12, 1)}, "valid_from", "起始日期须晚于现有"),
    (
        {"value": "registered_resident", "valid_from": D(2025, 6, 1)},
        "kind",
        "已自2025年1月1日起登记且仍然有效",
    ),
    ({"value": "nonsense"}, "value", "“nonsense”不是户籍/常住状况的类别"),
    ({"value": ""}, "value", "请选择户籍/常住状况的类别"),
    ({"kind": "living_alone", "value": "registered_absent"}, "value", "“独居”没有类别可选"),
    ({"kind": "unknown", "value": ""}, "kind", "请选择登记信息类别"),
    (
        {"kind": FactKind.POVERTY_RELAPSE_WATCH, "value": ""},
        "kind",
        "“防返贫监测户”是家庭的登记信息，请在家庭页面登记",
    ),
    ({"source": "rumour"}, "source", "请选择信息来源"),
    ({"valid_from": D(1899, 1, 1)}, "valid_from", "日期超出有效范围"),
    ({"valid_from": None}, "valid_from", "请填写起始日期"),
    ({"note": "说\x00明"}, "note", "说明含有无效字符（控制字符）"),
    ({"note": "\u200b"}, "note", "说明不能只由空格或零宽字符"),
]


@pytest.mark.parametrize(("changes", "key", "message"), REFUSALS)
def test_fact_refusals_save_nothing(actor, person, changes, key, message):
    opened = record(person, actor, FactKind.RESIDENCE, D(2025, 1, 1), "registered_resident")
    data = {"kind": FactKind.RESIDENCE, "value": "registered_absent", "valid_from": D(2025, 6, 1), **changes}
    if data["valid_from"] == "tomorrow":
        data["valid_from"] = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        record(person, actor, data.pop("kind"), data.pop("valid_from"), data.pop("value"), **data)
    assert message in excinfo.value.message_dict[key][0]
    assert list(PersonFact.objects.values_list("pk", "valid_to")) == [(opened.pk, None)]


def test_fact_may_not_start_inside_an_earlier_record(actor, person):
    record(person, actor, FactKind.EMPTY_NEST, D(2024, 1, 1))
    facts.fact_end(subject=person, kind=FactKind.EMPTY_NEST, valid_to=D(2024, 12, 31), actor=actor)
    with pytest.raises(ValidationError) as excinfo:
        record(person, actor, FactKind.EMPTY_NEST, D(2024, 12, 31))
    assert "与已登记的“空巢”（2024年1月1日至2024年12月31日）重叠，起始日期须晚于2024年12月31日" in str(
        excinfo.value
    )
    again = record(person, actor, FactKind.EMPTY_NEST, D(2025, 1, 1))
    assert [f.pk for f in facts.facts_on(person, D(2025, 1, 1))] == [again.pk]


def test_person_kind_on_a_household_and_out_of_scope_are_refused(make_user, actor, household):
    with pytest.raises(ValidationError) as excinfo:
        record(household, actor, FactKind.LIVING_ALONE, D(2025, 1, 1))
    assert "“独居”是人员的登记信息，请在该成员的页面登记" in excinfo.value.message_dict["kind"][0]
    stranger = make_user(CASEWORKER, region="community21")
    with pytest.raises(PermissionDenied):
        record(household, stranger, FactKind.FAMILY_PLANNING_SPECIAL, D(2025, 1, 1))
    with pytest.raises(PermissionDenied):
        record(household.head, stranger, FactKind.LIVING_ALONE, D(2025, 1, 1))
    assert not PersonFact.objects.exists()


def test_facts_of_a_deceased_person_stop_at_the_death(actor, person):
    Person.objects.filter(pk=person.pk).update(death_date=D(2025, 5, 1))
    with pytest.raises(ValidationError) as excinfo:
        record(person, actor, FactKind.LIVING_ALONE, D(2025, 5, 2))
    assert "该人员已于2025年5月1日死亡" in excinfo.value.message_dict["valid_from"][0]
    record(person, actor, FactKind.LIVING_ALONE, D(2025, 1, 1))
    with pytest.raises(ValidationError) as excinfo:
        facts.fact_end(subject=person, kind=FactKind.LIVING_ALONE, valid_to=D(2025, 5, 2), actor=actor)
    assert "截止日期不能晚于该人员的死亡日期（2025年5月1日）" in excinfo.value.message_dict["valid_to"][0]
    facts.fact_end(subject=person, kind=FactKind.LIVING_ALONE, valid_to=D(2025, 5, 1), actor=actor)
    assert list(facts.facts_on(person, D(2025, 5, 2))) == []


def test_ending_a_fact_sets_its_last_day_and_refuses_bad_dates(actor, make_user, household):
    fact = record(household, actor, FactKind.FAMILY_PLANNING_SPECIAL, D(2025, 1, 1))
    refusals = [
        (timezone.localdate() + datetime.timedelta(days=1), "截止日期不能晚于今天"),
        (D(2024, 12, 31), "截止日期不能早于起始日期（2025年1月1日）"),
        (None, "请填写截止日期"),
    ]
    for valid_to, message in refusals:
        with pytest.raises(ValidationError) as excinfo:
            facts.fact_end(
                subject=household, kind=FactKind.FAMILY_PLANNING_SPECIAL, valid_to=valid_to, actor=actor
            )
        assert message in excinfo.value.message_dict["valid_to"][0]
    with pytest.raises(PermissionDenied):
        facts.fact_end(
            subject=household,
            kind=FactKind.FAMILY_PLANNING_SPECIAL,
            valid_to=D(2025, 6, 1),
            actor=make_user(CASEWORKER, region="community21"),
        )
    fact.refresh_from_db()
    assert fact.valid_to is None

    facts.fact_end(
        subject=household,
        kind=FactKind.FAMILY_PLANNING_SPECIAL,
        valid_to=D(2025, 1, 1),
        actor=actor,
        reason="核实不符",
    )
    fact.refresh_from_db()
    assert (fact.valid_to, fact.ended_by, fact.end_reason) == (D(2025, 1, 1), actor, "核实不符")
    assert [f.kind for f in facts.facts_on(household, D(2025, 1, 1))] == [FactKind.FAMILY_PLANNING_SPECIAL]
    assert list(facts.facts_on(household, D(2025, 1, 2))) == []
    with pytest.raises(ValidationError) as excinfo:
        facts.fact_end(
            subject=household, kind=FactKind.FAMILY_PLANNING_SPECIAL, valid_to=D(2025, 6, 1), actor=actor
        )
    assert "没有仍然有效的登记，无需结束" in excinfo.value.message_dict["kind"][0]


def test_fact_constraints_hold_in_the_database(actor, household):
    person = household.head
    base = {"source": "home_visit", "region_code": household.region_code}
    PersonFact.objects.create(person=person, kind="living_alone", valid_from=D(2025, 1, 1), **base)
    PersonFact.objects.create(
        household=household, kind="poverty_relapse_watch", valid_from=D(2025, 1, 1), **base
    )
    bad_rows = [
        {"person": person, "kind": "living_alone", "valid_from": D(2025, 2, 1)},  # a second open one
        {
            "household": household,
            "kind": "poverty_relapse_watch",
            "valid_from": D(2025, 2, 1),
        },  # household too
        {"person": person, "household": household, "kind": "empty_nest", "valid_from": D(2025, 1, 1)},  # both
        {"kind": "empty_nest", "valid_from": D(2025, 1, 1)},  # neither
        {"person": person, "kind": "poverty_relapse_watch", "valid_from": D(2025, 1, 1)},  # household kind
        {"household": household, "kind": "empty_nest", "valid_from": D(2025, 1, 1)},  # person kind
        {"person": person, "kind": "empty_nest", "valid_from": D(2025, 2, 1), "valid_to": D(2025, 1, 31)},
    ]
    for row in bad_rows:
        with pytest.raises(IntegrityError), transaction.atomic():
            PersonFact.objects.create(**base, **row)
    # A closed one beside the open one is fine.
    PersonFact.objects.create(
        person=person, kind="living_alone", valid_from=D(2024, 1, 1), valid_to=D(2024, 12, 31), **base
    )


# ------------------------------------------------------------------------------------------- concurrency


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _first_holds_until_second_waits(first, second):
    """Run `first` in a transaction that stays open until `second` (another thread) waits for a lock, then
    commit it; returns each call's result or exception."""
    results: dict[str, object] = {}
    first_done, release = threading.Event(), threading.Event()

    def run_first():
        try:
            with transaction.atomic():
                results["first"] = first()
                first_done.set()
                release.wait(timeout=20)
        except BaseException as exc:  # noqa: BLE001 — asserted on by the test
            results["first"] = exc
            first_done.set()
        finally:
            connection.close()

    def run_second():
        try:
            first_done.wait(timeout=20)
            results["second"] = second()
        except BaseException as exc:  # noqa: BLE001
            results["second"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    first_done.wait(timeout=20)
    deadline = time.monotonic() + 15
    while _lock_waiters() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    waited = _lock_waiters() >= 1
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    return results, waited


def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")


@pytest.mark.django_db(transaction=True)
def test_two_recordings_of_the_same_fact_at_once_leave_one_open_and_a_clear_error(actor, person):
    """The second waits for the first's lock on the person, then sees its row: refused, nothing saved."""
    _needs_postgresql()
    results, waited = _first_holds_until_second_waits(
        lambda: record(person, actor, FactKind.LIVING_ALONE, D(2025, 1, 1)),
        lambda: record(person, actor, FactKind.LIVING_ALONE, D(2025, 1, 1)),
    )
    assert waited, "the second recording waited for the first"
    assert isinstance(results["first"], PersonFact)
    assert isinstance(results["second"], ValidationError)
    assert "“独居”已自2025年1月1日起登记且仍然有效，无需重复登记" in results["second"].message_dict["kind"][0]
    assert PersonFact.objects.filter(person=person, kind=FactKind.LIVING_ALONE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_later_change_recorded_at_the_same_moment_closes_the_first(actor, person):
    """Two caseworkers record a change at once: the second waits, then closes the first one's row."""
    _needs_postgresql()
    results, waited = _first_holds_until_second_waits(
        lambda: record(person, actor, FactKind.RESIDENCE, D(2025, 1, 1), "registered_resident"),
        lambda: record(person, actor, FactKind.RESIDENCE, D(2025, 4, 1), "registered_absent"),
    )
    assert waited
    assert isinstance(results["first"], PersonFact) and isinstance(results["second"], PersonFact)
    rows = list(
        PersonFact.objects.filter(person=person).order_by("valid_from").values_list("value", "valid_to")
    )
    assert rows == [("registered_resident", D(2025, 3, 31)), ("registered_absent", None)]


@pytest.mark.django_db(transaction=True)
def test_a_writer_that_skips_the_lock_is_stopped_by_the_constraint_with_the_clear_error(
    monkeypatch, actor, person
):
    """Without the person's lock the second does not see the first's uncommitted row; the conditional unique
    index makes it wait and refuses its open row, which the service turns into the Chinese error."""
    _needs_postgresql()
    monkeypatch.setattr(facts, "_lock", lambda subject: type(subject).objects.get(pk=subject.pk))
    results, waited = _first_holds_until_second_waits(
        lambda: record(person, actor, FactKind.EMPTY_NEST, D(2025, 1, 1)),
        lambda: record(person, actor, FactKind.EMPTY_NEST, D(2025, 2, 1)),
    )
    assert waited, "the second insert waited on the unique index"
    assert isinstance(results["first"], PersonFact)
    assert isinstance(results["second"], ValidationError), results["second"]
    assert "“空巢”刚被他人登记，请刷新页面核对后再提交" in results["second"].message_dict["kind"][0]
    assert (
        PersonFact.objects.filter(person=person, kind=FactKind.EMPTY_NEST, valid_to__isnull=True).count() == 1
    )


@pytest.mark.django_db(transaction=True)
def test_many_recordings_released_together_leave_exactly_one_open_fact(actor, person):
    _needs_postgresql()
    barrier = threading.Barrier(4)
    outcomes: list = []
    days = [D(2025, 1, 1), D(2025, 1, 1), D(2025, 3, 1), D(2025, 5, 1)]
    values = ["registered_resident", "registered_absent", "resident_unregistered", "registered_resident"]

    def run(day, value):
        try:
            barrier.wait(timeout=10)
            outcomes.append(record(person, actor, FactKind.RESIDENCE, day, value))
        except ValidationError as exc:
            outcomes.append(exc)
        except BaseException as exc:  # noqa: BLE001 — a 500 would be this
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in zip(days, values, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 4
    assert all(isinstance(o, PersonFact | ValidationError) for o in outcomes), outcomes
    rows = list(PersonFact.objects.filter(person=person).order_by("valid_from"))
    assert sum(1 for row in rows if row.valid_to is None) == 1
    assert len(rows) == sum(1 for o in outcomes if isinstance(o, PersonFact))
    # The rows that were saved form one unbroken line: each closed the day before the next.
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert earlier.valid_to == later.valid_from - datetime.timedelta(days=1)


# ------------------------------------------------------------------------------------------------- pages


def _token(html: str) -> str:
    tokens = TOKEN_INPUT.findall(html)
    assert len(tokens) == 1, "the form carries exactly one token"
    return tokens[0]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_person_page_shows_the_card_and_the_caseworker_records_a_fact_once(actor, person):
    client = _client(actor)
    page = client.get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert "登记信息（有效期）" in page and "暂无有效的登记信息" in page and "未评估" in page
    add_url = reverse("registry:fact_add", args=["person", person.pk])
    assert add_url in page
    form = client.get(add_url)
    assert form.status_code == 200
    html = form.content.decode()
    assert "户籍且常住" in html and "防返贫监测户" not in html  # a household kind is not offered on a person
    data = {
        "kind": "residence:registered_absent",
        "valid_from": "2025-03-01",
        "source": "police_match",
        "note": "外出务工",
        "form_token": _token(html),
    }

    first = client.post(add_url, data)
    second = client.post(add_url, data)  # the same rendered form again (double click)

    detail = reverse("registry:person_detail", args=[person.pk])
    assert first.status_code == 302 and first["Location"] == detail + "#facts"
    assert second.status_code == 302 and second["Location"] == detail + "#facts"
    assert ALREADY_SUBMITTED_MESSAGE in [str(m) for m in get_messages(second.wsgi_request)]
    fact = PersonFact.objects.get()
    assert (fact.person, fact.kind, fact.value, fact.valid_from, fact.source, fact.region_code) == (
        person,
        "residence",
        "registered_absent",
        D(2025, 3, 1),
        "police_match",
        person.region_code,
    )
    page = client.get(detail).content.decode()
    assert "户籍不常住" in page and "2025年3月1日" in page and "历史（全部记录 1 条）" in page


def test_fact_form_errors_are_shown_in_chinese_and_nothing_is_saved(actor, person):
    client = _client(actor)
    url = reverse("registry:fact_add", args=["person", person.pk])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    cases = [
        (
            {"kind": "living_alone", "valid_from": tomorrow.isoformat(), "source": "home_visit"},
            "起始日期不能晚于今天",
        ),
        ({"kind": "living_alone", "valid_from": "9999-12-31", "source": "home_visit"}, "日期超出有效范围"),
        ({"kind": "living_alone", "valid_from": "2025-01-01", "source": ""}, "这个字段是必填项"),
        (
            {"kind": "poverty_relapse_watch", "valid_from": "2025-01-01", "source": "home_visit"},
            "选择一个有效的选项",
        ),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not PersonFact.objects.exists()


def test_ending_a_fact_from_the_page(actor, person):
    record(person, actor, FactKind.LIVING_ALONE, D(2024, 5, 1))
    client = _client(actor)
    url = reverse("registry:fact_end", args=["person", person.pk])
    form = client.get(url + "?kind=living_alone").content.decode()
    assert "独居（自2024年5月1日起）" in form
    response = client.post(
        url,
        {
            "kind": "living_alone",
            "valid_to": "2025-06-30",
            "reason": "子女接回同住",
            "form_token": _token(form),
        },
    )
    assert response.status_code == 302
    fact = PersonFact.objects.get()
    assert (fact.valid_to, fact.end_reason, fact.ended_by) == (D(2025, 6, 30), "子女接回同住", actor)
    refused = client.post(url, {"kind": "living_alone", "valid_to": "2025-07-30"})
    assert refused.status_code == 400  # nothing open any more: the choice is gone


def test_recording_an_assessment_from_the_page(actor, person):
    client = _client(actor)
    url = reverse("registry:assessment_add", args=[person.pk])
    form = client.get(url).content.decode()
    assert "老年人能力评估" in form and "完全丧失生活自理能力" in form
    response = client.post(
        url,
        {
            "level": "tekun_self_care:none",
            "assessed_on": "2026-01-05",
            "assessor": "王评估",
            "assessor_org": "绿园区社会福利院",
            "form_token": _token(form),
        },
    )
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert (assessment.kind, assessment.level, assessment.valid_until) == (TEKUN, "none", D(2027, 1, 4))
    person.refresh_from_db()
    assert person.self_care == SelfCare.NONE
    page = client.get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert "完全丧失生活自理能力" in page and "2027年1月4日" in page
    too_long = client.post(
        url,
        {
            "level": "elder_ability:mild",
            "assessed_on": "2026-01-05",
            "valid_until": "2027-01-05",
            "assessor": "王评估",
            "assessor_org": "绿园区社会福利院",
        },
    )
    assert too_long.status_code == 400 and "评估有效期最长一年（至2027年1月4日）" in too_long.content.decode()
    assert Assessment.objects.count() == 1


def test_household_page_records_a_household_fact_and_members_see_it(actor, household):
    client = _client(actor)
    url = reverse("registry:fact_add", args=["household", household.pk])
    form = client.get(url).content.decode()
    assert "计划生育特殊家庭" in form and "独居" not in form
    response = client.post(
        url, {"kind": "family_planning_special", "valid_from": "2025-02-01", "source": "department_match"}
    )
    assert response.status_code == 302
    member = household.members.order_by("pk").last()
    record(member, actor, FactKind.LOST_ONLY_CHILD, D(2025, 2, 1))
    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "登记信息（有效期）" in page and "计划生育特殊家庭" in page
    assert f"{member.name}</a>：失独" in page
    # A member who died drops out of the household's list of members' facts.
    Person.objects.filter(pk=member.pk).update(death_date=D(2025, 6, 1))
    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "：失独" not in page
    person_page = client.get(reverse("registry:person_detail", args=[household.head_id])).content.decode()
    assert "所在家庭：" in person_page and "计划生育特殊家庭" in person_page


def test_scope_and_roles_on_the_pages(make_user, actor, person, household):
    record(person, actor, FactKind.LIVING_ALONE, D(2025, 1, 1))
    stranger = _client(make_user(CASEWORKER, region="community21"))
    for url in (
        reverse("registry:fact_add", args=["person", person.pk]),
        reverse("registry:fact_end", args=["person", person.pk]),
        reverse("registry:fact_add", args=["household", household.pk]),
        reverse("registry:assessment_add", args=[person.pk]),
    ):
        assert stranger.get(url).status_code == 404
        assert (
            stranger.post(
                url, {"kind": "empty_nest", "valid_from": "2025-01-01", "source": "home_visit"}
            ).status_code
            == 404
        )
    assert stranger.get(reverse("registry:fact_add", args=["nonsense", person.pk])).status_code == 404
    # A 科长 reads the card but records nothing.
    chief = _client(make_user("科长", region="district"))
    page = chief.get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert "登记信息（有效期）" in page and "独居" in page
    assert reverse("registry:fact_add", args=["person", person.pk]) not in page
    assert reverse("registry:assessment_add", args=[person.pk]) not in page
    response = chief.post(
        reverse("registry:fact_add", args=["person", person.pk]),
        {"kind": "empty_nest", "valid_from": "2025-01-01", "source": "home_visit"},
    )
    assert response.status_code == 403
    assert list(PersonFact.objects.values_list("kind", flat=True)) == ["living_alone"]


@pytest.mark.parametrize(
    "view", [registry_views.fact_add, registry_views.fact_end, registry_views.assessment_add]
)
def test_every_fact_form_saves_once_per_form(view):
    assert getattr(view, "once_per_form", False)


def test_person_page_queries_do_not_grow_with_facts(actor, person):
    client = _client(actor)
    url = reverse("registry:person_detail", args=[person.pk])
    record(person, actor, FactKind.LIVING_ALONE, D(2024, 1, 1))
    assess(person, actor, ELDER, "mild", D(2024, 1, 1))
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for year in (2025, 2026):
        record(
            person,
            actor,
            FactKind.RESIDENCE,
            D(year, 1, 1),
            "registered_absent" if year == 2025 else "registered_resident",
        )
        assess(person, actor, ELDER, "moderate", D(year, 1, 1))
    record(person.household, actor, FactKind.POVERTY_RELAPSE_WATCH, D(2025, 1, 1))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
