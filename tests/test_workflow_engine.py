"""The case engine: declared transitions, permissions, scope, maker-checker, audit log, 公示, to-dos."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.workflow import selectors
from core.workflow.calendar import add_working_days
from core.workflow.engine import (
    KIND_APPROVE,
    KIND_ENTER,
    CaseType,
    Transition,
    get_case_type,
    register_case_type,
)
from core.workflow.guards import require_notice_passed
from core.workflow.models import Case, CaseSequence, PublicNotice, TransitionLog
from core.workflow.services import (
    TransitionError,
    available_transitions,
    can_transition,
    case_create,
    case_transition,
    notice_close,
    notice_object,
    notice_open,
)
from tests.factories import household_with_members

D = datetime.date


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk12": make_user("社区经办人", region="community12"),
        "clerk21": make_user("社区经办人", region="community21"),
        "reviewer": make_user("街道审核员", region="street1"),
        "reviewer2": make_user("街道审核员", region="street2"),
        "chief": make_user("科长", region="district"),
        "chief2": make_user("科长", region="district"),
        "leader": make_user("局领导", region="district"),
    }


@pytest.fixture
def household(regions):
    return household_with_members(regions["community11"], size=3)


@pytest.fixture
def new_case(people, household, regions):
    def _new(actor=None, region="community11"):
        hh = household if region == "community11" else household_with_members(regions[region])
        return case_create(
            case_type="generic",
            applicant_household=hh,
            region=regions[region],
            actor=actor or people["clerk"],
        )

    return _new


def _to_chief(case, people):
    case_transition(case=case, name="submit", actor=people["clerk"])
    case_transition(case=case, name="review", actor=people["reviewer"], comment="情况属实")
    return case


# --- creation ---------------------------------------------------------------------------------------


def test_create_numbers_logs_and_assigns(new_case, people, household):
    today = timezone.localdate()
    case = new_case()
    second = new_case()
    assert case.number == f"TY{today.year}000001"
    assert second.number == f"TY{today.year}000002"
    assert CaseSequence.objects.get(prefix="TY", year=today.year).last_value == 2
    assert case.applicant_name == household.head.name
    assert case.region_code == household.region_code
    assert (case.status, case.current_step, case.assignee_role) == ("draft", "录入中", "社区经办人")
    assert case.due_date == add_working_days(today, 5)
    assert case.is_open and case.created_by == people["clerk"]
    (log,) = case.transitions.all()
    assert (log.transition, log.kind, log.from_status, log.to_status) == ("create", KIND_ENTER, "", "draft")


def test_numbers_run_per_prefix_and_year(new_case):
    CaseSequence.objects.create(prefix="TY", year=2020, last_value=41)
    case = new_case()
    assert case.number.endswith("000001")
    assert CaseSequence.objects.get(prefix="TY", year=2020).last_value == 41


def test_create_refused_outside_scope_or_without_permission(people, household, regions):
    with pytest.raises(TransitionError, match="数据范围"):
        case_create(
            case_type="generic",
            applicant_household=household,
            region=regions["community12"],
            actor=people["clerk"],
        )
    with pytest.raises(TransitionError, match="权限"):
        case_create(
            case_type="generic",
            applicant_household=household,
            region=regions["community11"],
            actor=people["leader"],
        )
    assert not Case.objects.exists()
    assert not CaseSequence.objects.exists()


# --- transitions ------------------------------------------------------------------------------------


def test_full_path_updates_step_assignee_due_date_and_log(new_case, people):
    today = timezone.localdate()
    case = new_case()

    case_transition(case=case, name="submit", actor=people["clerk"])
    case.refresh_from_db()
    assert (case.status, case.assignee_role, case.current_step) == ("street_review", "街道审核员", "街道审核")
    assert case.due_date == add_working_days(today, 15)
    assert case.step_started_on == today and case.accepted_on == today

    case_transition(case=case, name="review", actor=people["reviewer"], comment="入户调查属实")
    case.refresh_from_db()
    assert (case.status, case.assignee_role) == ("chief_approval", "科长")
    assert case.due_date == add_working_days(today, 10)

    returned = case_transition(case=case, name="approve", actor=people["chief"], comment="同意")
    assert returned.status == "approved"
    case.refresh_from_db()
    assert case.status == "approved"
    assert not case.is_open and case.closed_at is not None
    assert case.assignee_role == "" and case.due_date is None
    assert case.updated_by == people["chief"]

    logs = list(case.transitions.values_list("transition", "from_status", "to_status", "actor_id", "comment"))
    assert logs == [
        ("create", "", "draft", people["clerk"].pk, ""),
        ("submit", "draft", "street_review", people["clerk"].pk, ""),
        ("review", "street_review", "chief_approval", people["reviewer"].pk, "入户调查属实"),
        ("approve", "chief_approval", "approved", people["chief"].pk, "同意"),
    ]


def test_transition_updates_the_callers_instance(new_case, people):
    case = new_case()
    case_transition(case=case, name="submit", actor=people["clerk"])
    assert case.status == "street_review"


def test_wrong_status_is_refused_and_changes_nothing(new_case, people):
    case = new_case()
    with pytest.raises(TransitionError, match="当前状态为“录入中”"):
        case_transition(case=case, name="approve", actor=people["chief"])
    case.refresh_from_db()
    assert case.status == "draft"
    assert case.transitions.count() == 1


def test_unknown_transition_is_refused(new_case, people):
    with pytest.raises(TransitionError):
        case_transition(case=new_case(), name="teleport", actor=people["clerk"])


def test_missing_permission_is_refused(new_case, people):
    case = new_case()
    case_transition(case=case, name="submit", actor=people["clerk"])
    with pytest.raises(TransitionError, match="权限"):
        case_transition(case=case, name="review", actor=people["clerk"])
    with pytest.raises(TransitionError, match="权限"):
        case_transition(case=case, name="review", actor=people["leader"])
    case.refresh_from_db()
    assert case.status == "street_review"


def test_out_of_scope_is_refused(new_case, people):
    case = new_case()
    case_transition(case=case, name="submit", actor=people["clerk"])
    # A reviewer of street 2 holds the right permission but not the case's region.
    with pytest.raises(TransitionError, match="数据范围"):
        case_transition(case=case, name="review", actor=people["reviewer2"])
    # A caseworker of the neighbouring community cannot even withdraw a draft.
    other = new_case()
    with pytest.raises(TransitionError, match="数据范围"):
        case_transition(case=other, name="withdraw", actor=people["clerk12"], comment="x")
    case.refresh_from_db()
    assert case.status == "street_review"
    assert case.transitions.count() == 2


def test_comment_required_where_declared(new_case, people):
    case = new_case()
    case_transition(case=case, name="submit", actor=people["clerk"])
    with pytest.raises(TransitionError, match="须填写意见"):
        case_transition(case=case, name="send_back", actor=people["reviewer"], comment="   ")
    case_transition(case=case, name="send_back", actor=people["reviewer"], comment="缺少收入证明")
    case.refresh_from_db()
    assert (case.status, case.current_step, case.assignee_role) == ("draft", "补充材料", "社区经办人")


# --- maker-checker ----------------------------------------------------------------------------------


def test_reviewer_cannot_approve_but_another_chief_can(new_case, people):
    case = new_case()
    case_transition(case=case, name="submit", actor=people["clerk"])
    case_transition(case=case, name="review", actor=people["chief"])  # 科长 may review too
    with pytest.raises(TransitionError, match="审批分离"):
        case_transition(case=case, name="approve", actor=people["chief"])
    with pytest.raises(TransitionError, match="审批分离"):
        case_transition(case=case, name="reject", actor=people["chief"], comment="不符合条件")
    assert can_transition(case, "approve", people["chief"]) == (
        False,
        "您录入、调查或审核过本案件，按审批分离要求不能审批（“批准”须由他人办理）",
    )
    assert can_transition(case, "approve", people["chief2"]) == (True, "")
    case_transition(case=case, name="approve", actor=people["chief2"])
    case.refresh_from_db()
    assert case.status == "approved"


def test_creator_cannot_approve(new_case, people, make_user):
    maker = make_user("社区经办人", "科长", region="district")
    case = new_case(actor=maker)
    case_transition(case=case, name="submit", actor=people["clerk"])  # someone else submits
    case_transition(case=case, name="review", actor=people["reviewer"])
    with pytest.raises(TransitionError, match="审批分离"):
        case_transition(case=case, name="approve", actor=maker)
    case_transition(case=case, name="approve", actor=people["chief"])


def test_submitter_cannot_approve_after_send_back_and_resubmission(new_case, people, make_user):
    both = make_user("社区经办人", "街道审核员", "科长", region="district")
    case = new_case()
    case_transition(case=case, name="submit", actor=both)
    case_transition(case=case, name="send_back", actor=people["chief"], comment="补充")
    case_transition(case=case, name="submit", actor=people["clerk"])
    case_transition(case=case, name="review", actor=people["reviewer"])
    assert not can_transition(case, "approve", both)[0]
    # Sending back is not a review: the chief who did it may still decide.
    assert can_transition(case, "approve", people["chief"])[0]


def test_superuser_is_also_subject_to_maker_checker(new_case, people, make_user):
    admin = make_user(region=None, is_superuser=True)
    case = new_case()
    case_transition(case=case, name="submit", actor=people["clerk"])
    case_transition(case=case, name="review", actor=admin)
    with pytest.raises(TransitionError, match="审批分离"):
        case_transition(case=case, name="approve", actor=admin)


# --- available transitions, guards, effects --------------------------------------------------------


def test_available_transitions(new_case, people):
    case = _to_chief(new_case(), people)
    assert [t.name for t in available_transitions(case, people["chief"])] == [
        "approve",
        "reject",
        "send_back",
    ]
    assert [t.name for t in available_transitions(case, people["reviewer"])] == ["send_back"]
    assert available_transitions(case, people["clerk"]) == []
    assert available_transitions(case, people["reviewer2"]) == []


@pytest.fixture
def guarded_type():
    calls = []

    def effect(*, case, transition, actor, data):
        calls.append((case.pk, transition.name, actor.pk, data))
        if data.get("explode"):
            raise RuntimeError("effect failed")

    ct = register_case_type(
        CaseType(
            code="guarded",
            label="带公示的申请",
            number_prefix="GD",
            statuses={"open": "受理", "done": "已确认"},
            initial_status="open",
            initial_assignee_role="科长",
            closed_statuses=("done",),
            notice_min_days=10,
            transitions=(
                Transition(
                    "confirm",
                    "确认",
                    source=("open",),
                    target="done",
                    permission="workflow.approve_case",
                    kind=KIND_APPROVE,
                    guard=require_notice_passed,
                    required_data=("amount",),
                    effect=effect,
                ),
            ),
        )
    )
    ct.calls = calls
    yield ct
    from core.workflow import engine

    engine._REGISTRY.pop("guarded", None)


def test_guard_reason_refuses_and_effect_runs_in_the_transaction(
    guarded_type, people, household, regions, clock
):
    with clock.days_ago(20):
        case = case_create(
            case_type="guarded",
            applicant_household=household,
            region=regions["community11"],
            actor=people["clerk"],
        )
        assert can_transition(case, "confirm", people["chief"]) == (False, "尚未进行公示")
        with pytest.raises(TransitionError, match="尚未进行公示"):
            case_transition(case=case, name="confirm", actor=people["chief"], data={"amount": "600"})

        # The case type asks for 10 days of 公示, more than the system-wide 7.
        start = timezone.localdate()
        with pytest.raises(TransitionError, match="不得少于10天"):
            notice_open(case=case, start_date=start, days=7, place="社区公示栏", actor=people["clerk"])
        notice = notice_open(case=case, start_date=start, days=10, place="社区公示栏", actor=people["clerk"])
        assert can_transition(case, "confirm", people["chief"]) == (False, "公示尚未结束")
    # Twenty days later the 公示 has ended.
    notice_close(notice=notice, actor=people["clerk"])

    with pytest.raises(TransitionError, match="amount"):
        case_transition(case=case, name="confirm", actor=people["chief"], data={})
    # An effect that fails rolls the whole move back.
    with pytest.raises(RuntimeError):
        case_transition(
            case=case, name="confirm", actor=people["chief"], data={"amount": "600", "explode": True}
        )
    case.refresh_from_db()
    assert case.status == "open"
    assert not case.transitions.filter(transition="confirm").exists()

    case_transition(case=case, name="confirm", actor=people["chief"], data={"amount": "600"})
    case.refresh_from_db()
    assert case.status == "done"
    assert guarded_type.calls[-1] == (case.pk, "confirm", people["chief"].pk, {"amount": "600"})
    assert case.transitions.get(transition="confirm").data == {"amount": "600"}


def test_case_type_declarations_are_validated():
    with pytest.raises(ValueError):
        CaseType(
            code="bad", label="x", number_prefix="X", statuses={"a": "A"}, initial_status="b", transitions=()
        )
    with pytest.raises(ValueError):
        CaseType(
            code="bad",
            label="x",
            number_prefix="X",
            statuses={"a": "A"},
            initial_status="a",
            transitions=(Transition("t", "T", source=("a",), target="zzz"),),
        )
    with pytest.raises(ValueError):
        Transition("t", "T", source=("a",), target="a", kind="approved")
    with pytest.raises(LookupError):
        get_case_type("nope")


# --- audit log --------------------------------------------------------------------------------------


def test_transition_log_is_immutable(new_case):
    case = new_case()
    log = case.transitions.get()
    log.comment = "篡改"
    with pytest.raises(PermissionDenied):
        log.save()
    with pytest.raises(PermissionDenied):
        log.delete()
    with pytest.raises(PermissionDenied):
        TransitionLog.objects.filter(pk=log.pk).update(comment="篡改")
    with pytest.raises(PermissionDenied):
        TransitionLog.objects.filter(pk=log.pk).delete()
    assert TransitionLog.objects.get(pk=log.pk).comment == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger exists on PostgreSQL only")
def test_transition_log_is_immutable_in_the_database(new_case):
    case = new_case()
    log_id = case.transitions.get().pk
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE workflow_transitionlog SET comment = 'x' WHERE id = %s", [log_id])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM workflow_transitionlog WHERE id = %s", [log_id])
    assert TransitionLog.objects.filter(pk=log_id, comment="").exists()


# --- 公示 -------------------------------------------------------------------------------------------


def test_notice_shorter_than_seven_days_is_refused(new_case, people):
    case = new_case()
    with pytest.raises(TransitionError, match="公示期不得少于7天"):
        notice_open(case=case, start_date=D(2025, 9, 26), days=6, place="社区公示栏", actor=people["clerk"])
    assert not PublicNotice.objects.exists()


def test_notice_period_object_and_close(new_case, people, clock):
    with clock.days_ago(10):
        case = new_case()
        start = timezone.localdate()
        notice = notice_open(case=case, start_date=start, days=7, place="社区公示栏", actor=people["clerk"])
        # A posting of 7 days, the first day included (DESIGN.md "Dates the law counts").
        assert notice.end_date == start + datetime.timedelta(days=6)
        assert notice.region_code == case.region_code and notice.status == PublicNotice.Status.OPEN
        with pytest.raises(TransitionError, match="已有正在进行的公示"):
            notice_open(case=case, start_date=start, days=7, place="社区公示栏", actor=people["clerk"])
        with pytest.raises(TransitionError, match="数据范围"):
            notice_object(notice=notice, objection="有收入未申报", actor=people["clerk12"])

        # An objection without ending the 公示 (terminate=False) leaves it running to its end date.
        notice_object(notice=notice, objection="邻居反映有经营收入", actor=people["clerk"], terminate=False)
        notice.refresh_from_db()
        assert notice.status == PublicNotice.Status.OBJECTED and "经营收入" in notice.objection
        assert notice.closed_at is None
        assert require_notice_passed(case, people["chief"]) == "公示尚未结束"

    notice_close(notice=notice, actor=people["clerk"])
    notice.refresh_from_db()
    assert notice.closed_at is not None and notice.status == PublicNotice.Status.OBJECTED
    assert require_notice_passed(case, people["chief"]) == "公示有异议，需核实处理"
    with pytest.raises(TransitionError, match="公示已结束"):
        notice_close(notice=notice, actor=people["clerk"])
    labels = list(case.transitions.values_list("transition", flat=True))
    assert labels == ["create", "notice_open", "notice_object", "notice_close"]


def test_objection_ends_the_notice_so_a_new_one_can_follow(new_case, people):
    """民发〔2021〕57号 第十九条: an objection is re-investigated and a new 公示 follows at once."""
    case = new_case()
    today = timezone.localdate()
    notice = notice_open(case=case, start_date=today, days=7, place="社区公示栏", actor=people["clerk"])
    notice_object(notice=notice, objection="邻居反映有经营收入", actor=people["clerk"])
    notice.refresh_from_db()
    assert notice.status == PublicNotice.Status.OBJECTED and notice.closed_at is not None
    later = today + datetime.timedelta(days=3)
    second = notice_open(case=case, start_date=later, days=7, place="社区公示栏", actor=people["clerk"])
    assert second.status == PublicNotice.Status.OPEN
    case.refresh_from_db()
    assert case.status == "draft"  # 公示 events do not move the case


def test_notice_cannot_close_before_its_last_day(new_case, people):
    case = new_case()
    notice = notice_open(
        case=case, start_date=timezone.localdate(), days=7, place="社区公示栏", actor=people["clerk"]
    )
    with pytest.raises(TransitionError, match="期满后方可结束"):
        notice_close(notice=notice, actor=people["clerk"])
    notice.refresh_from_db()
    assert notice.closed_at is None


def test_notice_passes_without_objection(new_case, people, clock):
    with clock.days_ago(7):
        case = new_case()
        notice = notice_open(
            case=case, start_date=timezone.localdate(), days=7, place="村务公开栏", actor=people["clerk"]
        )
    notice_close(notice=notice, actor=people["clerk"])
    assert notice.status == PublicNotice.Status.PASSED
    assert require_notice_passed(case, people["chief"]) is None


# --- to-do lists ------------------------------------------------------------------------------------


def test_todo_for_role_scope_order_and_overdue(new_case, people, django_assert_num_queries):
    today = timezone.localdate()
    late = _to_chief(new_case(), people)
    soon = _to_chief(new_case(), people)
    draft = new_case()
    closed = _to_chief(new_case(), people)
    case_transition(case=closed, name="approve", actor=people["chief"])
    other_street = _to_chief_in(new_case(region="community21", actor=people["clerk21"]), people)
    Case.objects.filter(pk=late.pk).update(due_date=today - datetime.timedelta(days=3))

    chief = people["chief"]
    with django_assert_num_queries(1):
        rows = [(c.pk, c.is_overdue, c.region.name) for c in selectors.todo_for(chief, today=today)]
    assert [r[0] for r in rows] == [late.pk, soon.pk, other_street.pk]
    assert [r[1] for r in rows] == [True, False, False]
    with django_assert_num_queries(1):
        assert selectors.todo_counts(chief, today=today) == {"total": 3, "overdue": 1}

    # The clerk of community 11 has the draft; the street-1 reviewer has nothing left.
    assert [c.pk for c in selectors.todo_for(people["clerk"], today=today)] == [draft.pk]
    assert selectors.todo_counts(people["reviewer"], today=today) == {"total": 0, "overdue": 0}
    # Someone of street 2 never sees street 1's cases.
    assert selectors.todo_counts(people["reviewer2"], today=today)["total"] == 0


def _to_chief_in(case, people):
    case_transition(case=case, name="submit", actor=case.created_by)
    case_transition(case=case, name="review", actor=people["reviewer2"])
    return case


def test_case_search_filters(new_case, people):
    today = timezone.localdate()
    a = _to_chief(new_case(), people)
    b = new_case()
    Case.objects.filter(pk=a.pk).update(due_date=today - datetime.timedelta(days=1))
    chief = people["chief"]

    def pks(**params):
        return [c.pk for c in selectors.case_search(chief, params, today=today)]

    assert set(pks()) == {a.pk, b.pk}
    assert pks(q=a.number) == [a.pk]
    assert set(pks(q=a.applicant_name[:1])) == {a.pk, b.pk}
    assert pks(status="draft") == [b.pk]
    assert pks(overdue="1") == [a.pk]
    assert pks(assignee_role="科长") == [a.pk]
    assert pks(case_type="other") == []
    assert pks(sort="number") == [a.pk, b.pk]
    assert pks(sort="-number") == [b.pk, a.pk]
    assert pks(sort="bogus; drop table") == [b.pk, a.pk]  # falls back to newest first
    assert pks(open="0") == []
    assert selectors.case_search(people["clerk12"], {}).count() == 0


@pytest.mark.django_db(transaction=True)
def test_case_numbers_are_unique_under_concurrency(make_user, regions):
    """Eight caseworkers saving at once get eight different consecutive numbers (row lock on CaseSequence)."""
    import threading

    from django.contrib.auth.models import Group, Permission
    from django.db import connections

    from core.accounts.roles import sync_role_groups

    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    # An earlier transactional test may have flushed the role groups the migrations created.
    sync_role_groups(Group, Permission)
    clerk = make_user("社区经办人", region="community11")
    household = household_with_members(regions["community11"], size=1)
    barrier = threading.Barrier(8)
    numbers, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            case = case_create(
                case_type="generic", applicant_household=household, region=regions["community11"], actor=clerk
            )
            numbers.append(case.number)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    year = timezone.localdate().year
    assert errors == []
    assert sorted(numbers) == [f"TY{year}{i:06d}" for i in range(1, 9)]


def test_cases_create_bulk_numbers_logs_and_scope(regions, make_user):
    """A batch (e.g. the scheduled 低保 reviews) opens cases like case_create, in a fixed number of queries."""
    from core.workflow.services import NewCase, cases_create_bulk

    clerk = make_user("社区经办人", region="community11")
    community = regions["community11"]

    def batch(n):
        return [
            NewCase(
                applicant_name=f"申请人{i}",
                region_id=community.pk,
                region_code=community.code,
                comment="批量",
            )
            for i in range(n)
        ]

    with CaptureQueriesContext(connection) as small:
        cases_create_bulk(case_type="generic", cases=batch(2), actor=clerk)
    with CaptureQueriesContext(connection) as large:
        cases = cases_create_bulk(case_type="generic", cases=batch(12), actor=clerk)
    assert len(large.captured_queries) <= len(small.captured_queries)
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == 12 and numbers == sorted(numbers)
    assert all(c.is_open and c.created_by == clerk for c in cases)
    assert TransitionLog.objects.filter(case__in=cases, transition="create", kind="enter").count() == 12
    # The next single case continues the same sequence.
    single = case_create(case_type="generic", region=community, actor=clerk, applicant_name="单个")
    assert single.number > numbers[-1]

    outside = regions["community21"]
    with pytest.raises(TransitionError, match="不在您的数据范围内"):
        cases_create_bulk(
            case_type="generic",
            cases=[NewCase(applicant_name="外", region_id=outside.pk, region_code=outside.code)],
            actor=clerk,
        )
