"""Staff rosters (issue 11 part 3, core/staff): members and dated positions, one current 儿童主任 per community
and one 儿童督导员 per street (also under concurrency), the history answered on a date, the 缺岗 lists, the
figures per scope on the dashboard, scope and the division of who may enter which role, refusals that save
nothing, and the roster's Excel export."""

from __future__ import annotations

import datetime
import io
import re
import threading
import time

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from core.registry.crypto import id_number_q
from core.registry.masking import mask_id_number
from core.staff import selectors, services
from core.staff.choices import Qualification, StaffRole
from core.staff.demo import seed_staff_demo
from core.staff.models import StaffMember, StaffPosition
from tests.factories import valid_id_number

pytestmark = pytest.mark.django_db

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)
START = D(2024, 1, 1)
DIRECTOR = StaffRole.CHILD_DIRECTOR
SUPERVISOR = StaffRole.CHILD_SUPERVISOR
TOKEN_INPUT = re.compile(r'<input type="hidden" name="form_token" value="([A-Za-z0-9_-]+)">')


@pytest.fixture(autouse=True)
def _no_cached_panels():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def caseworker(make_user):
    return make_user("社区经办人", region="community11")


@pytest.fixture
def reviewer(make_user):
    return make_user("街道审核员", region="street1")


@pytest.fixture
def children_staff(make_user):
    return make_user("科室经办人", region="district", sections=["children"])


@pytest.fixture
def eldercare_chief(make_user):
    return make_user("科长", region="district", sections=["eldercare"])


def position(role=StaffRole.COMMUNITY_WORKER, valid_from=START, **kwargs) -> dict:
    return {"role": role, "valid_from": valid_from, **kwargs}


def social_worker(level=Qualification.SW_ASSISTANT, valid_from=START, cert="SW2023001", **kwargs):
    return position(
        StaffRole.SOCIAL_WORKER,
        valid_from,
        qualification=level,
        cert_number=cert,
        cert_date=D(2023, 6, 1),
        **kwargs,
    )


def care_worker(level=Qualification.CARE_4, valid_from=START, cert="YL2023001", **kwargs):
    return position(
        StaffRole.CARE_WORKER,
        valid_from,
        qualification=level,
        cert_number=cert,
        cert_date=D(2023, 6, 1),
        **kwargs,
    )


def add(actor, region, *positions, name="张三", **kwargs) -> StaffMember:
    return services.staff_member_create(
        actor=actor, name=name, region=region, positions=list(positions), **kwargs
    )


def director(region, name, valid_from=START, actor=None) -> StaffMember:
    return add(actor, region, position(DIRECTOR, valid_from), name=name)


def current(member, role) -> StaffPosition:
    return member.positions.get(role=role, valid_to__isnull=True)


# ---------------------------------------------------------------------------------------------- members


def test_a_member_is_registered_with_positions_and_the_id_number_encrypted(caseworker, regions):
    number = valid_id_number(D(1985, 5, 1), male=False)
    member = add(
        caseworker,
        regions["community11"],
        position(StaffRole.COMMUNITY_WORKER),
        position(DIRECTOR, D(2024, 3, 1)),
        name="李红",
        id_number=number.lower(),
        phone="13900001111",
    )
    member.refresh_from_db()
    assert member.id_number == number and member.sex == "F"  # the ID number sets the sex
    assert member.region_code == regions["community11"].code
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM staff_staffmember WHERE id = %s", [member.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("gAAAAA") and number not in stored
    assert StaffMember.objects.filter(id_number_q(number)).get() == member
    assert sorted(member.positions.values_list("role", "region_code")) == sorted(
        [(StaffRole.COMMUNITY_WORKER, member.region_code), (DIRECTOR, member.region_code)]
    )


def test_an_id_number_is_on_the_roster_once(reviewer, regions):
    number = valid_id_number()
    add(reviewer, regions["community11"], position(), id_number=number)
    with pytest.raises(ValidationError) as error:
        add(reviewer, regions["community12"], position(), id_number=number, name="王五")
    assert "该身份证号码已在队伍名册中登记（张三）" in error.value.message_dict["id_number"][0]
    assert StaffMember.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "rows", "key", "message"),
    [
        ({"id_number": "220106198501011234"}, [position()], "id_number", "身份证号码校验位错误"),
        ({"name": ""}, [position()], "name", "请填写姓名"),
        ({"phone": "139-abc"}, [position()], "phone", "联系电话只能包含数字"),
        ({}, [], "positions", "请至少登记一个岗位"),
        ({}, [position(valid_from=None)], "positions.0.valid_from", "请填写任职日期"),
        (
            {},
            [position(valid_from=timezone.localdate() + ONE_DAY)],
            "positions.0.valid_from",
            "任职日期不能晚于今天",
        ),
        ({}, [position(role="boss")], "positions.0.role", "请选择岗位"),
        (
            {},
            [position(StaffRole.SOCIAL_WORKER)],
            "positions.0.qualification",
            "持证社工须选择职业资格等级",
        ),
        (
            {},
            [social_worker(cert="")],
            "positions.0.cert_number",
            "持证社工须填写职业资格证书编号",
        ),
        (
            {},
            [position(), position(qualification=Qualification.SW_SOCIAL)],
            "positions.1.qualification",
            "社区工作者不登记资格等级",
        ),
        ({}, [position(), position()], "positions.1.role", "同一人员只能登记一个社区工作者岗位"),
        ({"region": "street1"}, [position(DIRECTOR)], "positions.0.role", "儿童主任须登记在社区/村"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_saves_nothing(
    reviewer, regions, fields, rows, key, message
):
    data = {"name": "张三", "region": regions["community11"], **fields}
    if isinstance(data["region"], str):
        data["region"] = regions[data["region"]]
    with pytest.raises(ValidationError) as error:
        services.staff_member_create(actor=reviewer, positions=rows, **data)
    assert message in " ".join(error.value.message_dict[key])
    assert not StaffMember.objects.exists() and not StaffPosition.objects.exists()


def test_a_supervisor_is_registered_at_a_street_only(children_staff, regions):
    with pytest.raises(ValidationError) as error:
        add(children_staff, regions["community11"], position(SUPERVISOR))
    assert "儿童督导员须登记在街道/乡镇" in error.value.message_dict["positions.0.role"][0]
    member = add(children_staff, regions["street1"], position(SUPERVISOR))
    assert current(member, SUPERVISOR).region_code == regions["street1"].code


def test_the_database_refuses_a_qualification_that_does_not_fit_the_role_and_dates_out_of_order(regions):
    member = add(None, regions["community11"], position())
    for kwargs in (
        {"role": StaffRole.SOCIAL_WORKER, "qualification": Qualification.SW_SOCIAL, "cert_number": ""},
        {"role": StaffRole.CARE_WORKER, "qualification": Qualification.SW_SOCIAL},
        {"role": StaffRole.OTHER, "qualification": Qualification.CARE_3},
        {"role": StaffRole.OTHER, "valid_to": D(2023, 12, 31)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            StaffPosition.objects.create(
                member=member, region_code=member.region_code, valid_from=D(2024, 1, 1), **kwargs
            )


# ------------------------------------------------------------------------------------- one per region


def test_a_second_current_director_of_a_community_is_refused_naming_the_holder(reviewer, regions):
    director(regions["community11"], "赵主任", actor=reviewer)
    with pytest.raises(ValidationError) as error:
        director(regions["community11"], "钱主任", actor=reviewer)
    assert (
        "该社区/村现任儿童主任为赵主任（自2024年1月1日起）" in error.value.message_dict["positions.0.role"][0]
    )
    assert StaffMember.objects.count() == 1
    director(regions["community12"], "钱主任", actor=reviewer)  # another community: fine


def test_a_new_director_may_start_the_day_after_the_former_ended_not_before(caseworker, regions):
    former = director(regions["community11"], "赵主任", actor=caseworker)
    services.staff_position_end(
        position=current(former, DIRECTOR), actor=caseworker, valid_to=D(2025, 3, 31), reason="调离"
    )
    with pytest.raises(ValidationError) as error:
        director(regions["community11"], "钱主任", D(2025, 3, 31), actor=caseworker)
    assert (
        "与赵主任的儿童主任任期（至2025年3月31日）重叠"
        in error.value.message_dict["positions.0.valid_from"][0]
    )
    director(regions["community11"], "钱主任", D(2025, 4, 1), actor=caseworker)


def test_the_database_holds_one_current_director_per_community_and_supervisor_per_street(regions):
    first = director(regions["community11"], "赵主任")
    other = add(None, regions["community11"], position(), name="钱")
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffPosition.objects.create(
            member=other, role=DIRECTOR, region_code=first.region_code, valid_from=D(2024, 2, 1)
        )
    add(None, regions["street1"], position(SUPERVISOR), name="孙督导")
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffPosition.objects.create(
            member=other, role=SUPERVISOR, region_code=regions["street1"].code, valid_from=D(2024, 2, 1)
        )


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _first_holds_until_second_waits(first, second):
    """Run `first` in a transaction kept open until `second` (another thread) waits for a lock, then commit
    it; returns each call's result or exception and whether the second waited."""
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
def test_two_directors_appointed_at_once_leave_one_and_a_clear_error(make_user, regions):
    """The second appointment waits for the first's lock on the community, then sees its row."""
    _needs_postgresql()
    first_actor = make_user("社区经办人", region="community11")
    second_actor = make_user("街道审核员", region="street1")
    community = regions["community11"]
    results, waited = _first_holds_until_second_waits(
        lambda: director(community, "赵主任", actor=first_actor),
        lambda: director(community, "钱主任", actor=second_actor),
    )
    assert waited, "the second appointment waited for the first"
    assert isinstance(results["first"], StaffMember)
    assert isinstance(results["second"], ValidationError), results["second"]
    assert "现任儿童主任为赵主任" in results["second"].message_dict["positions.0.role"][0]
    assert StaffPosition.objects.filter(role=DIRECTOR, valid_to__isnull=True).count() == 1
    assert StaffMember.objects.count() == 1  # the refused member was not saved either


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_the_constraint_stops_the_second_director_with_the_clear_error(
    monkeypatch, make_user, regions
):
    """A writer that skips the region's lock does not see the first's uncommitted row; the conditional unique
    index makes it wait and refuses it, and the service turns that into the Chinese error."""
    _needs_postgresql()
    monkeypatch.setattr(services, "_lock_regions", lambda codes: None)
    actor = make_user("社区经办人", region="community11")
    community = regions["community11"]
    results, waited = _first_holds_until_second_waits(
        lambda: director(community, "赵主任", actor=actor),
        lambda: director(community, "钱主任", actor=actor),
    )
    assert waited, "the second insert waited on the unique index"
    assert isinstance(results["first"], StaffMember)
    assert isinstance(results["second"], ValidationError), results["second"]
    assert "该社区/村已有现任儿童主任，请先结束其职务" in results["second"].messages
    assert StaffMember.objects.count() == 1


# ---------------------------------------------------------------------------------------- dated history


def test_history_is_dated_and_answered_on_any_day(caseworker, children_staff, regions):
    community = regions["community11"]
    former = director(community, "赵主任", D(2023, 1, 1), actor=caseworker)
    services.staff_position_end(
        position=current(former, DIRECTOR), actor=caseworker, valid_to=D(2024, 6, 30), reason="退休"
    )
    successor = director(community, "钱主任", D(2024, 7, 1), actor=children_staff)

    assert selectors.holder_on(caseworker, community.code, DIRECTOR, D(2022, 12, 31)) is None
    assert selectors.holder_on(caseworker, community.code, DIRECTOR, D(2024, 6, 30)) == former
    assert selectors.holder_on(caseworker, community.code, DIRECTOR, D(2024, 7, 1)) == successor
    assert selectors.holder_on(caseworker, community.code, DIRECTOR, timezone.localdate()) == successor
    ended = StaffPosition.objects.get(member=former)
    assert (ended.valid_to, ended.end_reason, ended.ended_by) == (D(2024, 6, 30), "退休", caseworker)


def test_a_change_ends_the_old_position_the_day_before_and_opens_the_new(make_user, regions):
    chief = make_user("科长", region="district", sections=["social_orgs"])
    member = add(chief, regions["community11"], social_worker(valid_from=D(2023, 7, 1)))
    new = services.staff_position_change(
        position=current(member, StaffRole.SOCIAL_WORKER),
        actor=chief,
        valid_from=D(2025, 1, 1),
        role=StaffRole.SOCIAL_WORKER,
        qualification=Qualification.SW_SOCIAL,
        cert_number="SW2024777",
        cert_date=D(2024, 12, 1),
        reason="考试合格",
    )
    rows = list(
        member.positions.order_by("valid_from").values_list("qualification", "valid_from", "valid_to")
    )
    assert rows == [
        (Qualification.SW_ASSISTANT, D(2023, 7, 1), D(2024, 12, 31)),
        (Qualification.SW_SOCIAL, D(2025, 1, 1), None),
    ]
    assert new.end_reason == "" and "变动为持证社工（社会工作师）：考试合格" in (
        member.positions.get(valid_to=D(2024, 12, 31)).end_reason
    )
    on = {
        day: list(selectors.positions_on(chief, day).values_list("qualification", flat=True))
        for day in (D(2024, 12, 31), D(2025, 1, 1))
    }
    assert on == {D(2024, 12, 31): [Qualification.SW_ASSISTANT], D(2025, 1, 1): [Qualification.SW_SOCIAL]}


def test_a_change_that_changes_nothing_or_goes_back_in_time_is_refused(make_user, regions):
    chief = make_user("科长", region="district", sections=["social_orgs"])
    member = add(chief, regions["community11"], social_worker(valid_from=D(2024, 1, 1)))
    held = current(member, StaffRole.SOCIAL_WORKER)
    base = {"position": held, "actor": chief, "role": StaffRole.SOCIAL_WORKER, "cert_date": D(2023, 6, 1)}
    with pytest.raises(ValidationError) as error:
        services.staff_position_change(
            **base,
            valid_from=D(2025, 1, 1),
            qualification=Qualification.SW_ASSISTANT,
            cert_number="SW2023001",
        )
    assert "无需变动" in error.value.message_dict["role"][0]
    with pytest.raises(ValidationError) as error:
        services.staff_position_change(
            **base, valid_from=D(2024, 1, 1), qualification=Qualification.SW_SOCIAL, cert_number="SW9"
        )
    assert "变动日期须晚于原任职日期（2024年1月1日）" in error.value.message_dict["valid_from"][0]
    assert list(member.positions.values_list("valid_to", flat=True)) == [None]  # nothing changed


def test_ending_is_refused_before_the_start_in_the_future_twice_or_without_a_reason(caseworker, regions):
    member = add(caseworker, regions["community11"], position(valid_from=D(2024, 5, 1)))
    held = current(member, StaffRole.COMMUNITY_WORKER)
    cases = [
        (D(2024, 4, 30), "离职", "valid_to", "离任日期不能早于任职日期（2024年5月1日）"),
        (timezone.localdate() + ONE_DAY, "离职", "valid_to", "离任日期不能晚于今天"),
        (D(2025, 1, 1), "", "reason", "请填写离任原因"),
    ]
    for valid_to, reason, key, message in cases:
        with pytest.raises(ValidationError) as error:
            services.staff_position_end(position=held, actor=caseworker, valid_to=valid_to, reason=reason)
        assert message in error.value.message_dict[key][0]
    services.staff_position_end(position=held, actor=caseworker, valid_to=D(2025, 1, 1), reason="离职")
    with pytest.raises(ValidationError) as error:
        services.staff_position_end(position=held, actor=caseworker, valid_to=D(2025, 2, 1), reason="离职")
    assert "该职务已于2025年1月1日结束" in error.value.messages[0]


def test_a_member_with_a_current_position_is_not_moved_to_another_region(caseworker, reviewer, regions):
    member = add(caseworker, regions["community11"], position())
    with pytest.raises(ValidationError) as error:
        services.staff_member_update(member=member, actor=reviewer, data={"region": regions["community12"]})
    assert "该人员有现任职务" in error.value.message_dict["region"][0]
    member.refresh_from_db()
    assert member.region_code == regions["community11"].code


# ------------------------------------------------------------------------------------- who may do what


def test_community_staff_enter_community_workers_and_directors_only(caseworker, regions):
    with pytest.raises(ValidationError) as error:
        add(caseworker, regions["community11"], care_worker())
    assert "您无权登记养老护理员" in error.value.message_dict["positions.0.role"][0]
    add(caseworker, regions["community11"], position(), position(DIRECTOR))


def test_section_staff_enter_their_sections_roles(children_staff, eldercare_chief, regions):
    add(eldercare_chief, regions["district"], care_worker(), workplace_name="绿园区社会福利中心")
    add(eldercare_chief, regions["community11"], position(StaffRole.CARE_WORKER), name="无证")
    with pytest.raises(ValidationError):
        add(eldercare_chief, regions["community12"], position(DIRECTOR))
    add(children_staff, regions["community12"], position(DIRECTOR))
    with pytest.raises(ValidationError):
        add(children_staff, regions["community21"], position(StaffRole.COMMUNITY_WORKER))


def test_out_of_scope_writes_are_refused(caseworker, regions):
    with pytest.raises(PermissionDenied):
        add(caseworker, regions["community21"], position())
    member = add(None, regions["community21"], position())
    with pytest.raises(PermissionDenied):
        services.staff_position_end(
            position=member.positions.get(), actor=caseworker, valid_to=D(2025, 1, 1), reason="离职"
        )
    assert member.positions.get().valid_to is None


# ------------------------------------------------------------------------------------- 缺岗 and counts


def test_vacancy_lists_name_the_communities_and_streets_without_a_holder_in_one_query(
    reviewer, make_user, regions, django_assert_num_queries
):
    director(regions["community11"], "赵主任")
    former = director(regions["community12"], "钱主任", D(2023, 1, 1))
    services.staff_position_end(
        position=current(former, DIRECTOR), actor=None, valid_to=D(2024, 1, 1), reason="调离"
    )
    add(None, regions["street2"], position(SUPERVISOR), name="孙督导")
    today = timezone.localdate()
    district_user = make_user("局领导", region="district")
    with django_assert_num_queries(1):
        missing = sorted(
            selectors.communities_without_director(district_user, today).values_list("code", flat=True)
        )
    assert missing == sorted(regions[k].code for k in ("community12", "community21", "community22"))
    with django_assert_num_queries(1):
        streets = list(
            selectors.streets_without_supervisor(district_user, today).values_list("code", flat=True)
        )
    assert streets == [regions["street1"].code]
    # on a day when 钱主任 still served, community12 was covered; a street reviewer sees their street only
    assert regions["community12"].code not in selectors.communities_without_director(
        district_user, D(2023, 6, 1)
    ).values_list("code", flat=True)
    assert sorted(selectors.communities_without_director(reviewer, today).values_list("code", flat=True)) == [
        regions["community12"].code
    ]


def test_vacancy_pages_list_and_export(client, reviewer, regions):
    director(regions["community11"], "赵主任")
    client.force_login(reviewer)
    page = client.get(reverse("staff:vacant_directors_list")).content.decode()
    assert "<td>测试社区1-2</td>" in page and "<td>测试社区1-1</td>" not in page and "测试社区2-1" not in page
    page = client.get(reverse("staff:vacant_supervisors_list")).content.decode()
    assert "<td>测试街道1</td>" in page and "测试街道2" not in page
    response = client.get(reverse("staff:vacant_directors_list"), {"export": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[2]][:2] == ["测试街道1", "测试社区1-2"]
    assert sheet.max_row == 2


def test_counts_follow_the_scope_and_the_day(reviewer, regions, make_user):
    district_user = make_user("局领导", region="district")
    add(None, regions["community11"], social_worker(Qualification.SW_ASSISTANT, D(2024, 1, 1)), name="甲")
    add(
        None,
        regions["community21"],
        social_worker(Qualification.SW_SOCIAL, D(2024, 1, 1), cert="SW2"),
        name="乙",
    )
    add(
        None,
        regions["community21"],
        social_worker(Qualification.SW_SENIOR, D(2025, 6, 1), cert="SW3"),
        name="丙",
    )
    add(None, regions["community11"], care_worker(), name="丁")
    add(None, regions["community12"], position(StaffRole.CARE_WORKER), name="戊")  # no certificate yet
    director(regions["community11"], "赵主任")
    add(None, regions["street1"], position(SUPERVISOR), name="孙督导")

    street = selectors.staff_counts(reviewer, timezone.localdate())
    district = selectors.staff_counts(district_user, timezone.localdate())
    earlier = selectors.staff_counts(district_user, D(2025, 1, 1))

    assert (
        street["social_workers"] == 1 and district["social_workers"] == 3 and earlier["social_workers"] == 2
    )
    assert district["social_by_level"] == [("助理社会工作师", 1), ("社会工作师", 1), ("高级社会工作师", 1)]
    assert (street["care_certified"], street["care_workers"]) == (1, 2)
    assert street["directors"] == {"total": 2, "covered": 1, "missing": 1, "rate": 50.0}
    assert district["directors"] == {"total": 4, "covered": 1, "missing": 3, "rate": 25.0}
    assert district["supervisors"] == {"total": 2, "covered": 1, "missing": 1, "rate": 50.0}
    assert selectors.staff_counts(district_user, D(2023, 1, 1))["directors"]["covered"] == 0
    # the 十四五 target (seed 004, a parameter) is the district's: not shown for a street
    assert district["social_work_target"] == 1000 and street["social_work_target"] is None


def test_the_dashboard_shows_the_card_for_the_users_scope(client, reviewer, regions):
    add(None, regions["community11"], social_worker(), name="甲")
    add(None, regions["community21"], social_worker(cert="SW2"), name="乙")
    director(regions["community11"], "赵主任")
    client.force_login(reviewer)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="staff_qualifications"' in page
    assert re.search(r'data-testid="social-workers">1<', page)
    assert re.search(r'data-testid="director-coverage">50.0%<', page)


# ------------------------------------------------------------------------------------------------ pages


def _token(page: str) -> str:
    return TOKEN_INPUT.search(page).group(1)


def _member_post(region, token, **overrides) -> dict:
    data = {
        "form_token": token,
        "name": "周敏",
        "id_number": "",
        "sex": "F",
        "phone": "13800002222",
        "region": region.pk,
        "workplace_name": "",
        "note": "",
        "positions-TOTAL_FORMS": "3",
        "positions-INITIAL_FORMS": "0",
        "positions-MIN_NUM_FORMS": "1",
        "positions-MAX_NUM_FORMS": "1000",
        "positions-0-role": StaffRole.COMMUNITY_WORKER,
        "positions-0-valid_from": "2024-02-01",
        "positions-1-role": DIRECTOR,
        "positions-1-valid_from": "2024-03-01",
        "positions-2-valid_from": "",
    }
    data.update(overrides)
    return data


def test_a_caseworker_creates_a_member_with_positions_on_the_page(client, caseworker, regions):
    client.force_login(caseworker)
    page = client.get(reverse("staff:member_create")).content.decode()
    # the roles offered are the ones the caseworker may enter
    assert f'<option value="{DIRECTOR}">' in page and '<option value="care_worker">' not in page
    response = client.post(reverse("staff:member_create"), _member_post(regions["community11"], _token(page)))
    member = StaffMember.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "staff:member_detail", args=[member.pk]
    )
    assert sorted(member.positions.values_list("role", flat=True)) == sorted(
        [StaffRole.COMMUNITY_WORKER, DIRECTOR]
    )


def test_a_refused_page_saves_nothing_and_shows_the_error_beside_the_row(client, caseworker, regions):
    director(regions["community11"], "赵主任")
    client.force_login(caseworker)
    page = client.get(reverse("staff:member_create")).content.decode()
    response = client.post(reverse("staff:member_create"), _member_post(regions["community11"], _token(page)))
    assert response.status_code == 400
    assert "现任儿童主任为赵主任" in response.content.decode()
    assert StaffMember.objects.count() == 1
    response = client.post(
        reverse("staff:member_create"),
        _member_post(
            regions["community11"], _token(page), id_number="22010619850101123X", **{"positions-1-role": ""}
        ),
    )
    assert response.status_code == 400 and "身份证号码校验位错误" in response.content.decode()
    assert StaffMember.objects.count() == 1


def test_the_detail_page_masks_the_id_number_and_shows_the_history(client, caseworker, regions):
    number = valid_id_number()
    member = add(caseworker, regions["community11"], position(valid_from=D(2023, 1, 1)), id_number=number)
    services.staff_position_end(
        position=member.positions.get(), actor=caseworker, valid_to=D(2024, 1, 1), reason="转岗"
    )
    services.staff_member_update(
        member=member, actor=caseworker, data={}, new_positions=[position(DIRECTOR, D(2024, 1, 2))]
    )
    client.force_login(caseworker)
    page = client.get(reverse("staff:member_detail", args=[member.pk])).content.decode()
    assert number not in page and mask_id_number(number) in page
    assert "转岗" in page and "2024年1月2日" in page and "现任" in page


def test_editing_with_the_masked_id_number_keeps_it(client, caseworker, regions):
    number = valid_id_number()
    member = add(caseworker, regions["community11"], position(), id_number=number, phone="13900001111")
    client.force_login(caseworker)
    url = reverse("staff:member_edit", args=[member.pk])
    page = client.get(url).content.decode()
    assert number not in page and mask_id_number(number) in page
    data = {
        "form_token": _token(page),
        "name": "张三丰",
        "id_number": mask_id_number(number),
        "sex": "",
        "phone": "139****1111",
        "region": regions["community11"].pk,
        "workplace_name": "",
        "note": "",
        "positions-TOTAL_FORMS": "1",
        "positions-INITIAL_FORMS": "0",
        "positions-MIN_NUM_FORMS": "0",
        "positions-MAX_NUM_FORMS": "1000",
        "positions-0-valid_from": "",
    }
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert (member.name, member.id_number, member.phone) == ("张三丰", number, "13900001111")


def test_end_and_change_pages(client, make_user, regions):
    chief = make_user("科长", region="district", sections=["social_orgs"])
    member = add(chief, regions["community11"], social_worker(valid_from=D(2024, 1, 1)))
    held = current(member, StaffRole.SOCIAL_WORKER)
    client.force_login(chief)
    url = reverse("staff:position_change", args=[held.pk])
    page = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "form_token": _token(page),
            "valid_from": "2025-01-01",
            "role": StaffRole.SOCIAL_WORKER,
            "qualification": Qualification.SW_SOCIAL,
            "cert_number": "SW2024001",
            "cert_date": "2024-12-01",
            "reason": "",
        },
    )
    assert response.status_code == 302
    new = current(member, StaffRole.SOCIAL_WORKER)
    assert new.qualification == Qualification.SW_SOCIAL
    url = reverse("staff:position_end", args=[new.pk])
    page = client.get(url).content.decode()
    response = client.post(url, {"form_token": _token(page), "valid_to": "2099-01-01", "reason": "离职"})
    assert response.status_code == 400 and "离任日期不能晚于今天" in response.content.decode()
    response = client.post(url, {"form_token": _token(page), "valid_to": "2025-06-30", "reason": "离职"})
    assert response.status_code == 302
    assert not member.positions.filter(valid_to__isnull=True).exists()


def test_pages_outside_scope_are_404_and_other_roles_are_403(client, caseworker, make_user, regions):
    member = add(None, regions["community21"], position())
    client.force_login(caseworker)
    for name in ("staff:member_detail", "staff:member_edit"):
        assert client.get(reverse(name, args=[member.pk])).status_code == 404
    assert client.get(reverse("staff:position_end", args=[member.positions.get().pk])).status_code == 404
    own = add(None, regions["community11"], care_worker())
    # a community caseworker does not manage a 养老护理员: no 离任/变动 for them
    assert client.get(reverse("staff:position_end", args=[own.positions.get().pk])).status_code == 403
    client.force_login(make_user("局领导", region="district"))
    assert client.get(reverse("staff:member_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("staff:member_edit", args=[own.pk])).status_code == 403


# -------------------------------------------------------------------------------------------- the roster


def _roster(client, **params):
    response = client.get(reverse("staff:roster_list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_roster_filters_current_by_default_and_searches(client, make_user, regions):
    chief = make_user("科长", region="district", sections=["social_orgs", "children", "eldercare"])
    add(chief, regions["community11"], social_worker(cert="SW20230001"), name="甲社工")
    gone = add(chief, regions["community12"], position(DIRECTOR, D(2023, 1, 1)), name="乙主任")
    services.staff_position_end(
        position=gone.positions.get(), actor=chief, valid_to=D(2024, 1, 1), reason="离职"
    )
    add(chief, regions["community21"], care_worker(), name="丙护理")
    client.force_login(chief)

    page = _roster(client)
    assert "甲社工" in page and "丙护理" in page and "乙主任" not in page
    assert "乙主任" in _roster(client, period="all")
    assert "乙主任" in _roster(client, period="ended") and "甲社工" not in _roster(client, period="ended")
    assert "乙主任" in _roster(client, on="2023-06-01") and "甲社工" not in _roster(client, on="2023-06-01")
    page = _roster(client, q="sw2023")
    assert "甲社工" in page and "丙护理" not in page
    page = _roster(client, role=StaffRole.CARE_WORKER)
    assert "丙护理" in page and "甲社工" not in page
    page = _roster(client, qualification=Qualification.SW_ASSISTANT, street=regions["street1"].code)
    assert "甲社工" in page and "丙护理" not in page
    assert "乙主任" not in _roster(client, community=regions["community11"].code, period="all")


def test_roster_is_scoped_and_bounded_in_queries(client, caseworker, regions, django_assert_max_num_queries):
    for i in range(12):
        add(None, regions["community11"], position(), name=f"本社区{i}")
    add(None, regions["community21"], position(), name="外街道")
    client.force_login(caseworker)
    with django_assert_max_num_queries(10):  # 9 measured, whatever the rows
        page = _roster(client)
    assert "本社区11" in page and "外街道" not in page


def test_roster_export_opens_with_the_current_filter(client, caseworker, regions):
    add(None, regions["community11"], position(), position(DIRECTOR), name="周敏", phone="13800002222")
    add(None, regions["community11"], position(), name='=HYPERLINK("x")')
    add(None, regions["community21"], position(), name="外街道")
    client.force_login(caseworker)
    response = client.get(reverse("staff:roster_list"), {"export": "xlsx", "role": DIRECTOR})
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["姓名", "性别", "岗位", "资格等级"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 1 and rows[0][0] == "周敏" and rows[0][2] == "儿童主任"
    assert "138****2222" in rows[0]  # the phone is masked in the export too
    response = client.get(reverse("staff:roster_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert (
        "外街道" not in names
        and sheet.cell(row=names.index('=HYPERLINK("x")') + 2, column=1).data_type == "s"
    )


# ------------------------------------------------------------------------------------------------- demo


def test_the_demo_roster_is_coherent_and_idempotent(regions):
    created = seed_staff_demo(rng_seed=1)
    assert created > 0
    assert seed_staff_demo(rng_seed=1) == 0
    assert StaffMember.objects.count() == created
    today = timezone.localdate()
    assert StaffPosition.objects.filter(role=DIRECTOR, valid_to__isnull=True).count() >= 1
    assert StaffPosition.objects.filter(valid_to__isnull=False).exists()  # some history
    assert all(p.valid_from <= today for p in StaffPosition.objects.all())


def test_the_section_axis_on_the_pages(client, children_staff, eldercare_chief, regions):
    member = director(regions["community11"], "赵主任")
    held = member.positions.get()
    client.force_login(children_staff)
    assert client.get(reverse("staff:member_edit", args=[member.pk])).status_code == 200
    assert client.get(reverse("staff:position_end", args=[held.pk])).status_code == 200
    client.force_login(eldercare_chief)
    assert client.get(reverse("staff:member_detail", args=[member.pk])).status_code == 200
    assert client.get(reverse("staff:position_end", args=[held.pk])).status_code == 403
    # the eldercare chief may add a 养老护理员 position to the member, so the edit page is served
    page = client.get(reverse("staff:member_edit", args=[member.pk])).content.decode()
    assert '<option value="care_worker">' in page and f'<option value="{DIRECTOR}">' not in page
