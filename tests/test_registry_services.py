"""Registry services: registration is all-or-nothing, moves keep history, life events are published."""

import datetime
import hashlib
import re
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from core.accounts.models import AccessLog
from core.registry import events, services
from core.registry.choices import IncomeKind, LifeEventKind, Relation
from core.registry.idnumbers import check_char
from core.registry.models import (
    AssetRecord,
    Attachment,
    Household,
    HouseholdSequence,
    IncomeRecord,
    LifeEvent,
    Membership,
    Person,
)
from core.registry.selectors import household_detail
from tests.factories import household_with_members, valid_id_number

pytestmark = pytest.mark.django_db

CASEWORKER = "社区经办人"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def actor(make_user):
    return make_user(CASEWORKER, region="community11")


def member(relation=Relation.HEAD, **overrides):
    data = {
        "name": "张三",
        "id_type": "ric",
        "id_number": valid_id_number(datetime.date(1975, 5, 20), male=True),
        "relation": relation,
        "phone": "13912345678",
    }
    data.update(overrides)
    return data


def register(actor, region, members, **kwargs):
    return services.household_register(
        region=region, address="长春市绿园区春城大街1号", members=members, actor=actor, **kwargs
    )


def row_counts():
    return (
        Household.objects.count(),
        Person.objects.count(),
        Membership.objects.count(),
        HouseholdSequence.objects.filter(last_value__gt=0).count(),
    )


# ------------------------------------------------------------------------------------------------- register


def test_household_register_creates_household_persons_memberships_and_head(actor, regions):
    head = member(name="王建国")
    spouse = member(
        Relation.SPOUSE, name="李秀英", id_number=valid_id_number(datetime.date(1977, 8, 1), male=False)
    )
    child = member(
        Relation.CHILD,
        name="王小明",
        id_number=valid_id_number(datetime.date(2012, 3, 4), male=True).lower(),
        phone="",
    )

    household = register(
        actor,
        regions["community11"],
        [head, spouse, child],
        bank_name="中国农业银行",
        bank_account="6228480012345678901",
    )

    assert re.fullmatch(r"220106001001\d{6}", household.number)
    assert household.number == "220106001001000001"
    assert household.region_code == regions["community11"].code
    assert household.area_type == "urban"
    assert household.created_by == actor
    members = {p.name: p for p in household.members.all()}
    assert set(members) == {"王建国", "李秀英", "王小明"}
    assert household.head == members["王建国"]
    child_person = members["王小明"]
    assert child_person.id_number == child["id_number"].upper()
    assert child_person.birth_date == datetime.date(2012, 3, 4)
    assert child_person.sex == "M"
    assert child_person.region_code == household.region_code
    assert members["李秀英"].sex == "F"
    assert Membership.objects.filter(household=household, left_on__isnull=True).count() == 3
    assert household.history.first().history_user == actor


def test_household_numbers_follow_a_sequence_per_community(actor, regions):
    first = register(actor, regions["community11"], [member()])
    second = register(actor, regions["community11"], [member(id_number=valid_id_number())])
    assert (first.number[-6:], second.number[-6:]) == ("000001", "000002")


def test_household_number_skips_numbers_already_taken(actor, regions):
    household_with_members(regions["community11"], number="220106001001000001")
    household = register(actor, regions["community11"], [member()])
    assert household.number == "220106001001000002"


def _bad_check(number):
    right = check_char(number[:17])
    return number[:17] + ("1" if right != "1" else "2")


@pytest.mark.parametrize(
    ("members_factory", "key", "message"),
    [
        (lambda: [member(id_number=_bad_check(valid_id_number()))], "members.0.id_number", "校验位错误"),
        (
            lambda: [member(id_number="22010620991231001" + check_char("22010620991231001"))],
            "members.0.id_number",
            "晚于今天",
        ),
        (lambda: [member(id_number="220106800101001")], "members.0.id_number", "15位旧身份证号码"),
        (lambda: [member(name="")], "members.0.name", "请填写姓名"),
        (
            lambda: [member(birth_date=datetime.date(1975, 5, 21))],
            "members.0.birth_date",
            "出生日期与身份证号码不一致",
        ),
        (lambda: [member(sex="F")], "members.0.sex", "性别与身份证号码不一致"),
        (lambda: [member(Relation.SPOUSE)], "members", "请指定一名户主"),
        (
            lambda: [member(), member(Relation.HEAD, id_number=valid_id_number())],
            "members.1.relation",
            "一户只能有一名户主",
        ),
        (lambda: [], "members", "请至少登记一名家庭成员"),
        (
            lambda: [member(id_type="passport", id_number="E12345678", birth_date=None, sex="M")],
            "members.0.birth_date",
            "请填写出生日期",
        ),
    ],
)
def test_household_register_refuses_bad_input_and_saves_nothing(
    actor, regions, members_factory, key, message
):
    members = members_factory()
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        register(actor, regions["community11"], members)

    assert any(message in m for m in excinfo.value.message_dict[key]), excinfo.value.message_dict
    assert row_counts() == before


def test_duplicate_id_within_the_form_is_refused(actor, regions):
    number = valid_id_number()
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        register(
            actor,
            regions["community11"],
            [member(id_number=number), member(Relation.CHILD, id_number=number.lower())],
        )
    assert excinfo.value.message_dict["members.1.id_number"] == ["与第 1 位成员的证件号码重复"]
    assert row_counts() == before


def test_person_already_in_another_household_must_move_out_first(actor, regions):
    other = household_with_members(regions["community12"], size=2)
    existing = other.members.order_by("pk").last()
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        register(
            actor, regions["community11"], [member(), member(Relation.SPOUSE, id_number=existing.id_number)]
        )
    assert excinfo.value.message_dict["members.1.id_number"] == [
        f"该人员已在家庭 {other.number} 中，请先办理迁出"
    ]
    assert row_counts() == before


def test_registered_person_without_household_is_a_duplicate(actor, regions):
    from tests.factories import PersonFactory

    loose = PersonFactory(household=None)
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        register(actor, regions["community11"], [member(id_number=loose.id_number)])
    assert excinfo.value.message_dict["members.0.id_number"] == ["该身份证号码已登记"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("region_key", "message"),
    [("community21", "不在您的管辖范围内"), ("street1", "只能登记在社区或村"), (None, "请选择所属社区/村")],
)
def test_region_must_be_a_community_inside_the_actors_scope(actor, regions, region_key, message):
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        register(actor, regions[region_key] if region_key else None, [member()])
    assert message in excinfo.value.message_dict["region"][0]
    assert row_counts() == before


def test_street_reviewer_registers_in_any_community_of_the_street(make_user, regions):
    reviewer = make_user("街道审核员", region="street1")
    household = register(reviewer, regions["community12"], [member()])
    assert household.region_code == regions["community12"].code


def test_every_error_is_reported_at_once(actor, regions):
    with pytest.raises(ValidationError) as excinfo:
        services.household_register(
            region=regions["community21"],
            address="",
            members=[member(name="", id_number="123"), member(Relation.CHILD)],
            actor=actor,
        )
    errors = excinfo.value.message_dict
    assert {"region", "address", "members.0.name", "members.0.id_number"} <= set(errors)


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_draw_different_numbers(make_user, regions):
    """Two sessions register in the same community at once; the sequence row lock serialises them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    actor = make_user(CASEWORKER, region="community11")
    numbers, errors = [], []

    def run():
        try:
            household = register(actor, regions["community11"], [member(id_number=valid_id_number())])
            numbers.append(household.number)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"220106001001{n:06d}" for n in range(1, 5)]


# ------------------------------------------------------------------------------------------------- moves


def test_person_move_closes_membership_and_opens_a_new_one(make_user, regions):
    actor = make_user("街道审核员", region="street1")
    source = household_with_members(regions["community11"], size=3)
    target = household_with_members(regions["community12"], size=1)
    child = source.members.exclude(pk=source.head_id).order_by("pk").last()
    moved_on = timezone.localdate() - datetime.timedelta(days=3)

    services.person_move(
        person=child, to_household=target, relation=Relation.GRANDCHILD, date=moved_on, actor=actor
    )

    child.refresh_from_db()
    assert child.household == target
    assert child.relation == Relation.GRANDCHILD
    assert child.region_code == regions["community12"].code
    stays = list(child.memberships.order_by("joined_on"))
    assert [(m.household_id, m.left_on) for m in stays] == [(source.pk, moved_on), (target.pk, None)]
    assert child.history.count() >= 2  # the move is in the person's history too


def test_person_move_refuses_head_with_remaining_members_and_changes_nothing(actor, regions):
    source = household_with_members(regions["community11"], size=2)
    target = household_with_members(regions["community11"], size=1)
    with pytest.raises(ValidationError) as excinfo:
        services.person_move(
            person=source.head,
            to_household=target,
            relation=Relation.SPOUSE,
            date=timezone.localdate(),
            actor=actor,
        )
    assert "请先为原家庭变更户主" in excinfo.value.message_dict["person"][0]
    assert Membership.objects.filter(person=source.head, left_on__isnull=True).get().household == source


def test_person_move_outside_scope_is_refused(actor, regions):
    source = household_with_members(regions["community11"], size=2)
    target = household_with_members(regions["community21"], size=1)
    child = source.members.exclude(pk=source.head_id).get()
    with pytest.raises(PermissionDenied):
        services.person_move(
            person=child, to_household=target, relation=Relation.CHILD, date=timezone.localdate(), actor=actor
        )


# ------------------------------------------------------------------------------------------------- income, assets


def test_income_record_add_and_per_capita(actor, regions):
    household = household_with_members(regions["community11"], size=2)
    start = datetime.date(2024, 1, 1)
    services.income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount="1500.00", period_start=start, actor=actor
    )
    services.income_record_add(
        household=household,
        kind=IncomeKind.SOCIAL_INSURANCE,
        monthly_amount="200",
        period_start=start,
        actor=actor,
    )
    services.income_record_add(
        household=household,
        kind=IncomeKind.SCHOLARSHIP,
        monthly_amount="500",
        period_start=start,
        actor=actor,
    )
    detail = household_detail(actor, household.pk)
    assert detail.income.counted == 1500
    assert detail.income.deducted == 200
    assert detail.income.excluded == 500
    assert str(detail.income.per_capita) == "650.00"


def test_income_record_refuses_negative_amount(actor, regions):
    household = household_with_members(regions["community11"])
    with pytest.raises(ValidationError) as excinfo:
        services.income_record_add(
            household=household,
            kind=IncomeKind.WAGE,
            monthly_amount="-1",
            period_start=datetime.date(2024, 1, 1),
            actor=actor,
        )
    assert excinfo.value.message_dict["monthly_amount"] == ["金额不能为负数"]
    assert IncomeRecord.objects.count() == 0


def test_income_period_end_before_start_is_refused(actor, regions):
    household = household_with_members(regions["community11"])
    with pytest.raises(ValidationError) as excinfo:
        services.income_record_add(
            household=household,
            kind=IncomeKind.WAGE,
            monthly_amount="100",
            period_start=datetime.date(2024, 5, 1),
            period_end=datetime.date(2024, 4, 1),
            actor=actor,
        )
    assert "截止日期不能早于起始日期" in excinfo.value.message_dict["period_end"]


def test_asset_record_add(actor, regions):
    household = household_with_members(regions["community11"])
    record = services.asset_record_add(
        household=household,
        kind="deposit",
        value="12000.50",
        recorded_on=datetime.date(2024, 3, 1),
        actor=actor,
    )
    assert record.value == AssetRecord.objects.get().value
    with pytest.raises(ValidationError):
        services.asset_record_add(
            household=household,
            kind="deposit",
            value="-5",
            recorded_on=datetime.date(2024, 3, 1),
            actor=actor,
        )


# ------------------------------------------------------------------------------------------------- attachments


def test_attachment_add_stores_checksum_and_region(actor, regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    household = household_with_members(regions["community11"])
    upload = SimpleUploadedFile("收入证明.pdf", PDF, content_type="application/pdf")

    attachment = services.attachment_add(
        target=household, doc_type="income_proof", uploaded_file=upload, actor=actor
    )

    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.size == len(PDF)
    assert attachment.region_code == household.region_code
    assert attachment.target == household
    assert attachment.original_name == "收入证明.pdf"
    with attachment.file.open("rb") as handle:
        assert handle.read() == PDF


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.exe", b"MZ\x90\x00", "不支持的文件类型"),
        ("noextension", PDF, "不支持的文件类型"),
        ("photo.png", PDF, "文件内容与扩展名 .png 不符"),
        ("scan.pdf", b"<html>not a pdf</html>", "文件内容与扩展名 .pdf 不符"),
        ("scan.jpg", PNG, "文件内容与扩展名 .jpg 不符"),
        ("empty.pdf", b"", "文件为空"),
    ],
)
def test_attachment_add_refuses_wrong_types(actor, regions, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    household = household_with_members(regions["community11"])
    with pytest.raises(ValidationError) as excinfo:
        services.attachment_add(
            target=household, doc_type="other", uploaded_file=SimpleUploadedFile(name, content), actor=actor
        )
    assert message in excinfo.value.message_dict["file"][0]
    assert Attachment.objects.count() == 0


def test_attachment_add_refuses_too_large(actor, regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ATTACHMENT_MAX_BYTES = 1024
    household = household_with_members(regions["community11"])
    with pytest.raises(ValidationError) as excinfo:
        services.attachment_add(
            target=household,
            doc_type="other",
            uploaded_file=SimpleUploadedFile("big.png", PNG + b"\x00" * 2000),
            actor=actor,
        )
    assert "文件过大" in excinfo.value.message_dict["file"][0]
    assert Attachment.objects.count() == 0


def test_attachment_remove_is_soft(actor, regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    household = household_with_members(regions["community11"])
    attachment = services.attachment_add(
        target=household, doc_type="other", uploaded_file=SimpleUploadedFile("a.png", PNG), actor=actor
    )
    services.attachment_remove(attachment=attachment, actor=actor)
    attachment.refresh_from_db()
    assert attachment.is_removed
    assert household_detail(actor, household.pk).attachments == []


# ------------------------------------------------------------------------------------------------- life events


@pytest.fixture
def received():
    """Subscribe a test handler to every life event kind; unsubscribed afterwards."""
    calls = []

    def handler(event, actor):
        calls.append((event.kind, event.person_id, event.event_date, actor))

    for kind in LifeEventKind.values:
        events.subscribe(kind, handler)
    yield calls
    for kind in LifeEventKind.values:
        events._subscribers[kind].remove(handler)


def test_death_is_recorded_and_published(actor, regions, received):
    household = household_with_members(regions["community11"], size=2)
    person = household.members.exclude(pk=household.head_id).get()
    died = timezone.localdate() - datetime.timedelta(days=2)

    event = services.person_record_death(person=person, death_date=died, actor=actor)

    person.refresh_from_db()
    assert person.death_date == died
    assert event.kind == LifeEventKind.DEATH
    assert received == [(LifeEventKind.DEATH, person.pk, died, actor)]


def test_death_refuses_future_date_and_a_second_death(actor, regions, received):
    household = household_with_members(regions["community11"], size=1)
    person = household.head
    with pytest.raises(ValidationError) as excinfo:
        services.person_record_death(
            person=person, death_date=timezone.localdate() + datetime.timedelta(days=1), actor=actor
        )
    assert excinfo.value.message_dict["death_date"] == ["死亡日期不能晚于今天"]
    services.person_record_death(person=person, death_date=timezone.localdate(), actor=actor)
    with pytest.raises(ValidationError) as excinfo:
        services.person_record_death(person=person, death_date=timezone.localdate(), actor=actor)
    assert "不能重复登记" in excinfo.value.message_dict["death_date"][0]
    assert LifeEvent.objects.filter(kind=LifeEventKind.DEATH).count() == 1
    assert len(received) == 1


def test_a_failing_subscriber_rolls_the_death_back(actor, regions):
    household = household_with_members(regions["community11"], size=1)

    def broken(event, actor):
        raise RuntimeError("bureau handler failed")

    events.subscribe(LifeEventKind.DEATH, broken)
    try:
        with pytest.raises(RuntimeError):
            services.person_record_death(person=household.head, death_date=timezone.localdate(), actor=actor)
    finally:
        events._subscribers[LifeEventKind.DEATH].remove(broken)
    household.head.refresh_from_db()
    assert household.head.death_date is None
    assert not LifeEvent.objects.exists()


def test_marital_change_is_published(actor, regions, received):
    household = household_with_members(regions["community11"], size=1)
    services.person_record_marital_change(
        person=household.head, new_status="married", date=timezone.localdate(), actor=actor
    )
    household.head.refresh_from_db()
    assert household.head.marital_status == "married"
    assert [r[0] for r in received] == [LifeEventKind.MARITAL_CHANGE]


def test_birthday_detection_is_idempotent(actor, regions, received):
    from tests.factories import PersonFactory

    on = datetime.date(2026, 3, 1)
    turned_18 = PersonFactory(birth_date=datetime.date(2008, 3, 1))
    almost_18 = PersonFactory(birth_date=datetime.date(2008, 3, 2))
    turned_80 = PersonFactory(birth_date=datetime.date(1946, 2, 10))
    leap_baby = PersonFactory(birth_date=datetime.date(2008, 2, 29))  # 18 on 1 March 2026
    dead = PersonFactory(birth_date=datetime.date(1940, 1, 1), death_date=datetime.date(2019, 1, 1))

    first = services.life_events_detect_birthdays(on_date=on, actor=None)
    second = services.life_events_detect_birthdays(on_date=on, actor=None)

    got = {(e.person_id, e.kind) for e in first}
    assert (turned_18.pk, LifeEventKind.TURNED_18) in got
    assert (leap_baby.pk, LifeEventKind.TURNED_18) in got
    assert (turned_80.pk, LifeEventKind.TURNED_80) in got
    assert (turned_80.pk, LifeEventKind.TURNED_18) in got  # never recorded before: backfilled once
    assert all(pid != almost_18.pk for pid, _ in got)
    assert all(pid != dead.pk for pid, _ in got)
    assert LifeEvent.objects.get(person=turned_80, kind=LifeEventKind.TURNED_80).event_date == datetime.date(
        2026, 2, 10
    )
    assert LifeEvent.objects.get(person=leap_baby, kind=LifeEventKind.TURNED_18).event_date == datetime.date(
        2026, 3, 1
    )
    assert second == []
    assert len(received) == len(first)


# ------------------------------------------------------------------------------------------------- personal data


def test_personal_data_reveal_logs_access(make_user, regions):
    chief = make_user("科长", region="district")
    household = household_with_members(regions["community11"], size=1)
    values = services.personal_data_reveal(person=household.head, actor=chief, ip="10.0.0.8")
    assert values["id_number"] == household.head.id_number
    log = AccessLog.objects.get()
    assert (log.user, log.person, log.action, log.ip_address) == (chief, household.head, "reveal", "10.0.0.8")


def test_personal_data_reveal_refused_without_permission(actor, regions):
    household = household_with_members(regions["community11"], size=1)
    with pytest.raises(PermissionDenied):
        services.personal_data_reveal(person=household.head, actor=actor, ip="10.0.0.8")
    assert not AccessLog.objects.exists()
