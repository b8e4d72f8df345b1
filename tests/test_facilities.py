"""服务设施 with safety inspections (issue 11 part 2): the register's rules and constraints, inspections with
hazards, rectification and re-inspection, the overdue and not-inspected lists at their exact boundaries, scope
and sections, the 整改通知书 PDF and the Excel exports."""

from __future__ import annotations

import datetime
import importlib
import io
import shutil
import subprocess
import threading

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.facilities import selectors, services
from core.facilities.models import Facility, FacilityKind, Hazard, Inspection
from core.registry.models import Attachment

D = datetime.date
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def kinds(db):
    """The kinds of the data migration (a transactional test's flush removes them)."""
    if not FacilityKind.objects.exists():
        importlib.import_module("core.facilities.migrations.0002_seed_kinds").seed_kinds(apps, None)


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11", display_name="张经办"),
        "clerk12": make_user("社区经办人", region="community12", display_name="钱经办"),
        "street": make_user("街道审核员", region="street1", display_name="王审核"),
        "street2": make_user("街道审核员", region="street2", display_name="周审核"),
        "yl": make_user("科室经办人", region="district", sections=["eldercare"], display_name="孙经办"),
        "yl_chief": make_user("科长", region="district", sections=["eldercare"], display_name="吴科长"),
        "jz": make_user("科室经办人", region="district", sections=["assistance"], display_name="郑经办"),
        "leader": make_user("局领导", region="district", display_name="陈局长"),
    }


def facility_data(where, /, **overrides):
    data = {
        "kind": "elder_institution",
        "name": "正阳颐养院",
        "region": where.code,
        "address": "绿园区正阳街100号",
        "operator_type": "private",
        "operator_name": "长春市绿园区正阳颐养院",
        "uscc": "91110000600037341L",
        "licence_no": "22010620190001",
        "licensed_on": D(2019, 5, 20),
        "capacity": "100",
        "floor_area": "3200.50",
        "beds_nursing": "60",
        "beds_dementia": "10",
        "beds_general": "20",
        "residents_intact": "20",
        "residents_mild": "20",
        "residents_moderate": "10",
        "residents_severe": "5",
        "residents_total": "5",
        "rating_level": "3",
        "rated_on": D(2024, 6, 15),
        "rating_valid_until": D(2027, 6, 14),
    }
    data.update(overrides)
    return data


@pytest.fixture
def facility(people, regions):
    return services.facility_create(actor=people["yl"], data=facility_data(regions["community11"]))


def inspect(facility, actor, inspectors, *, day=None, kind="district", hazards=()):
    return services.inspection_record(
        facility=facility,
        actor=actor,
        inspected_on=day or TODAY(),
        kind=kind,
        inspectors=inspectors,
        findings="消防、用电检查",
        hazards=hazards,
    )


def hazard_row(deadline, **overrides):
    return {
        "description": "疏散通道堆放杂物",
        "severity": "major",
        "deadline": deadline,
        "responsible_person": "刘院长",
        **overrides,
    }


# ------------------------------------------------------------------------------------------------ kinds


def test_kinds_are_seeded_by_section():
    by_code = {k.code: k for k in FacilityKind.objects.all()}
    # 16 seeded with the register, and 特困人员供养服务设施 added by the 特困 lifecycle (assistance 0013)
    assert len(by_code) == 17
    assert by_code["tekun_institution"].section_code == "assistance" and by_code["tekun_institution"].has_beds
    assert by_code["elder_institution"].section_code == "eldercare" and by_code["elder_institution"].has_beds
    assert by_code["children_home"].section_code == "children"
    assert by_code["community_service_facility"].section_code == "social_orgs"
    assert by_code["columbarium"].section_code == "funeral"
    assert by_code["relief_station"].section_code == "assistance" and by_code["relief_station"].has_beds
    assert by_code["marriage_registry"].section_code == "marriage"
    assert not by_code["meal_site"].has_beds


# ------------------------------------------------------------------------------------------------ facilities


def test_facility_registered_with_region_code_and_history(facility, people, regions):
    assert facility.region_code == regions["community11"].code
    assert facility.uscc == "91110000600037341L"
    assert facility.beds_total == 90
    assert facility.created_by == people["yl"]
    assert facility.history.count() == 1
    assert facility.history.first().history_user == people["yl"]

    services.facility_update(
        facility=facility,
        actor=people["yl_chief"],
        data=facility_data(regions["community11"], capacity="120", is_active=False),
    )
    facility.refresh_from_db()
    assert (facility.capacity, facility.is_active) == (120, False)
    assert facility.history.count() == 2
    # Nothing is deleted: the inactive facility is still in the register.
    assert Facility.objects.filter(pk=facility.pk).exists()


BAD_FACILITY_INPUT = [
    ({"kind": "spaceport"}, "kind", "未知的设施类别"),
    ({"beds_nursing": "-5"}, "beds_nursing", "护理型床位不能为负数"),
    ({"capacity": "-1"}, "capacity", "服务容量不能为负数"),
    ({"floor_area": "-10"}, "floor_area", "建筑面积不能为负数"),
    ({"residents_mild": "abc"}, "residents_mild", "应为整数"),
    ({"capacity": "50"}, "capacity", "各类床位合计（90）超过服务容量（50）"),
    ({"uscc": "91110000600037341A"}, "uscc", "校验位不正确"),
    ({"uscc": "123"}, "uscc", "18位"),
    (
        {"rated_on": D(2024, 6, 15), "rating_valid_until": D(2024, 6, 1)},
        "rating_valid_until",
        "应晚于评定日期",
    ),
    ({"rating_level": "", "rated_on": D(2024, 6, 15)}, "rating_level", "请选择等级"),
    ({"rating_level": "6"}, "rating_level", "一级至五级"),
    ({"rated_on": None}, "rated_on", "请填写评定日期"),
    ({"licensed_on": D(2099, 1, 1)}, "licensed_on", "不能晚于今天"),
    ({"operator_type": "state"}, "operator_type", "请选择运营性质"),
    ({"name": "  "}, "name", "请填写设施名称"),
    ({"region": "220106002001"}, "region", "不在您的管辖范围内"),
    # A meal site has no beds.
    ({"kind": "meal_site"}, "beds_nursing", "助餐点不设床位"),
]


@pytest.mark.parametrize(("override", "field", "message"), BAD_FACILITY_INPUT)
def test_bad_facility_input_saves_nothing(people, regions, override, field, message):
    with pytest.raises(ValidationError) as error:
        services.facility_create(
            actor=people["street"], data=facility_data(regions["community11"], **override)
        )
    assert message in " ".join(error.value.message_dict[field])
    assert not Facility.objects.exists()


def test_duplicate_active_name_refused_an_inactive_one_allowed(facility, people, regions):
    with pytest.raises(ValidationError) as error:
        services.facility_create(actor=people["yl"], data=facility_data(regions["community11"]))
    assert "已有同名的在用养老机构" in error.value.message_dict["name"][0]
    services.facility_update(
        facility=facility, actor=people["yl"], data=facility_data(regions["community11"], is_active=False)
    )
    again = services.facility_create(actor=people["yl"], data=facility_data(regions["community11"]))
    assert Facility.objects.filter(name=again.name).count() == 2


CONSTRAINT_VIOLATIONS = [
    # A negative capacity also breaks "beds within capacity": either refusal names the capacity.
    ("facility_capacity_non_negative|facility_beds_within_capacity", {"capacity": -1}),
    ("facility_counts_non_negative", {"beds_general": -1}),
    ("facility_counts_non_negative", {"residents_total": -2}),
    ("facility_floor_area_non_negative", {"floor_area": -1}),
    ("facility_beds_within_capacity", {"capacity": 10}),
    ("facility_residents_within_capacity", {"capacity": 90, "residents_total": 40}),
    ("facility_rating_level_1_to_5", {"rating_level": 7}),
    ("facility_rating_has_date", {"rated_on": None, "rating_valid_until": None}),
    ("facility_rating_dates_ordered", {"rating_valid_until": D(2024, 6, 15)}),
]


@pytest.mark.parametrize(("constraint", "values"), CONSTRAINT_VIOLATIONS)
def test_database_constraints(facility, constraint, values):
    """Written past the service, the database refuses each invariant itself."""
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        Facility.objects.filter(pk=facility.pk).update(**values)
    assert any(name in str(error.value) for name in constraint.split("|"))


def test_database_refuses_a_second_active_facility_of_the_same_name(facility):
    clone = Facility(
        kind=facility.kind,
        name=facility.name,
        region=facility.region,
        region_code=facility.region_code,
        address="x",
        operator_type="public",
    )
    with pytest.raises(IntegrityError, match="facility_one_active_per_name"), transaction.atomic():
        clone.save()


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_the_same_facility_save_one(make_user, regions):
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    actor = make_user("街道审核员", region="street1")
    saved, refused, other = [], [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            saved.append(services.facility_create(actor=actor, data=facility_data(regions["community11"])))
        except ValidationError as exc:
            refused.append(exc)
        except Exception as exc:  # noqa: BLE001
            other.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not other
    assert (len(saved), len(refused)) == (1, 3)
    assert all("已有同名" in e.message_dict["name"][0] for e in refused)
    assert Facility.objects.count() == 1


# ------------------------------------------------------------------------------------------------ who edits


def test_section_staff_edit_their_sections_kinds_only(facility, people, regions):
    # 社会救助科's caseworker may not register or change a 养老机构 …
    with pytest.raises(ValidationError) as error:
        services.facility_create(
            actor=people["jz"], data=facility_data(regions["community12"], name="另一家养老院")
        )
    assert "养老机构由养老服务科维护" in error.value.message_dict["kind"][0]
    with pytest.raises(PermissionDenied):
        services.facility_update(
            facility=facility, actor=people["jz"], data=facility_data(regions["community11"])
        )
    with pytest.raises(PermissionDenied):
        inspect(facility, people["jz"], [people["jz"], people["yl"]])
    # … but registers the 救助管理站 of their own section.
    station = services.facility_create(
        actor=people["jz"],
        data=facility_data(regions["community12"], kind="relief_station", name="绿园区救助管理站"),
    )
    assert station.kind.code == "relief_station"
    # 局领导 reads only.
    with pytest.raises(PermissionDenied):
        services.facility_update(
            facility=facility, actor=people["leader"], data=facility_data(regions["community11"])
        )


def test_community_staff_edit_any_kind_in_their_community_only(facility, people, regions):
    home = services.facility_create(
        actor=people["clerk"],
        data=facility_data(regions["community11"], kind="children_home", name="正阳社区儿童之家", **NO_BEDS),
    )
    assert home.region_code == regions["community11"].code
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        services.facility_update(
            facility=facility, actor=people["clerk12"], data=facility_data(regions["community11"])
        )


NO_RATING = {"rating_level": "", "rated_on": None, "rating_valid_until": None}
NO_BEDS = {
    "beds_nursing": "0",
    "beds_dementia": "0",
    "beds_general": "",
    "residents_intact": "",
    "residents_mild": "",
    "residents_moderate": "",
    "residents_severe": "",
    "residents_total": "",
}


# ------------------------------------------------------------------------------------------------ inspections


def test_inspection_with_hazards_recorded_atomically(facility, people):
    inspection = inspect(
        facility,
        people["yl"],
        [people["yl"], people["street"]],
        hazards=[hazard_row(TODAY()), hazard_row(TODAY() + datetime.timedelta(days=7), severity="grave")],
    )
    assert set(inspection.inspectors.all()) == {people["yl"], people["street"]}
    assert inspection.region_code == facility.region_code
    assert list(inspection.hazards.values_list("severity", flat=True).order_by("pk")) == ["major", "grave"]
    assert all(h.region_code == facility.region_code for h in inspection.hazards.all())


def test_a_self_check_may_have_one_inspector(facility, people):
    inspection = inspect(facility, people["clerk"], [people["clerk"]], kind="self")
    assert inspection.inspectors.count() == 1


@pytest.mark.parametrize("kind", ["district", "special"])
def test_district_and_special_inspections_need_two_inspectors(facility, people, kind):
    with pytest.raises(ValidationError) as error:
        inspect(facility, people["yl"], [people["yl"]], kind=kind, hazards=[hazard_row(TODAY())])
    assert "至少2名检查人员" in error.value.message_dict["inspectors"][0]
    # The same person twice is one inspector.
    with pytest.raises(ValidationError):
        inspect(facility, people["yl"], [people["yl"], people["yl"].pk], kind=kind)
    assert not Inspection.objects.exists() and not Hazard.objects.exists()


BAD_INSPECTIONS = [
    ({"day": "future"}, "inspected_on", "检查日期不能晚于今天"),
    ({"kind": "audit"}, "kind", "未知的检查类型"),
    ({"inspectors": "outside"}, "inspectors", "钱经办不在该设施的管辖范围内"),
    ({"hazards": "deadline_before"}, "hazards.1.deadline", "整改期限不能早于检查日期"),
    ({"hazards": "no_person"}, "hazards.0.responsible_person", "请填写整改责任人"),
    ({"hazards": "bad_severity"}, "hazards.0.severity", "请选择隐患等级"),
]


@pytest.mark.parametrize(("case", "field", "message"), BAD_INSPECTIONS)
def test_bad_inspection_saves_nothing(facility, people, case, field, message):
    day = TODAY() - datetime.timedelta(days=3)
    inspectors = [people["yl"], people["street"]]
    hazards = [hazard_row(day), hazard_row(day + datetime.timedelta(days=5))]
    kind = "district"
    if case.get("day"):
        day = TODAY() + datetime.timedelta(days=1)
    if case.get("kind"):
        kind = case["kind"]
    if case.get("inspectors"):
        inspectors = [people["yl"], people["clerk12"]]
    if case.get("hazards") == "deadline_before":
        hazards[1]["deadline"] = day - datetime.timedelta(days=1)
    elif case.get("hazards") == "no_person":
        hazards[0]["responsible_person"] = ""
    elif case.get("hazards") == "bad_severity":
        hazards[0]["severity"] = "tiny"
    with pytest.raises(ValidationError) as error:
        inspect(facility, people["yl"], inspectors, day=day, kind=kind, hazards=hazards)
    assert message in " ".join(error.value.message_dict[field])
    assert not Inspection.objects.exists() and not Hazard.objects.exists()


def test_rectification_and_reinspection(facility, people):
    day = TODAY() - datetime.timedelta(days=10)
    inspection = inspect(
        facility, people["yl"], [people["yl"], people["street"]], day=day, hazards=[hazard_row(day)]
    )
    hazard = inspection.hazards.get()
    assert hazard.state == "open"
    with pytest.raises(ValidationError, match="尚未整改"):
        services.hazard_reinspect(hazard=hazard, actor=people["yl"], reinspected_on=TODAY(), result="passed")
    with pytest.raises(ValidationError) as error:
        services.hazard_rectify(
            hazard=hazard, actor=people["clerk"], rectified_on=day - datetime.timedelta(days=1), note=""
        )
    assert set(error.value.message_dict) == {"rectified_on", "note"}

    services.hazard_rectify(
        hazard=hazard, actor=people["clerk"], rectified_on=day + datetime.timedelta(days=2), note="已清理"
    )
    hazard.refresh_from_db()
    assert hazard.state == "awaiting"
    with pytest.raises(ValidationError, match="待复查"):
        services.hazard_rectify(hazard=hazard, actor=people["clerk"], rectified_on=TODAY(), note="again")

    # 不合格: open again, with a new deadline; a new deadline is required and not before the re-inspection.
    with pytest.raises(ValidationError) as error:
        services.hazard_reinspect(
            hazard=hazard,
            actor=people["yl"],
            reinspected_on=day + datetime.timedelta(days=3),
            result="failed",
            note="仍有杂物",
        )
    assert "new_deadline" in error.value.message_dict
    new_deadline = day + datetime.timedelta(days=8)
    services.hazard_reinspect(
        hazard=hazard,
        actor=people["yl"],
        reinspected_on=day + datetime.timedelta(days=3),
        result="failed",
        note="仍有杂物",
        new_deadline=new_deadline,
    )
    hazard.refresh_from_db()
    assert (hazard.state, hazard.deadline, hazard.rectified_on) == ("open", new_deadline, None)
    assert hazard.reinspected_by == people["yl"]

    services.hazard_rectify(
        hazard=hazard, actor=people["clerk"], rectified_on=day + datetime.timedelta(days=6), note="已清理完毕"
    )
    services.hazard_reinspect(
        hazard=hazard, actor=people["yl"], reinspected_on=day + datetime.timedelta(days=7), result="passed"
    )
    hazard.refresh_from_db()
    assert hazard.state == "closed"
    # The history keeps the first deadline and the failed result.
    assert {h.deadline for h in hazard.history.all()} == {day, new_deadline}
    assert "failed" in {h.reinspection_result for h in hazard.history.all()}


def test_hazard_constraints(facility, people):
    inspection = inspect(
        facility, people["yl"], [people["yl"], people["street"]], hazards=[hazard_row(TODAY())]
    )
    hazard = inspection.hazards.get()
    with pytest.raises(IntegrityError, match="hazard_passed_after_rectification"), transaction.atomic():
        Hazard.objects.filter(pk=hazard.pk).update(reinspection_result="passed", reinspected_on=TODAY())
    with pytest.raises(IntegrityError, match="hazard_result_has_date"), transaction.atomic():
        Hazard.objects.filter(pk=hazard.pk).update(reinspection_result="failed")


def test_hazard_photo_is_a_core_attachment(facility, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspection = inspect(
        facility, people["yl"], [people["yl"], people["street"]], hazards=[hazard_row(TODAY())]
    )
    hazard = inspection.hazards.get()
    photo = SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100, content_type="image/jpeg")
    attachment = services.hazard_photo_add(hazard=hazard, actor=people["clerk"], uploaded_file=photo)
    assert attachment.region_code == facility.region_code
    assert Attachment.objects.visible_to(people["clerk"]).filter(pk=attachment.pk).exists()
    assert not Attachment.objects.visible_to(people["clerk12"]).filter(pk=attachment.pk).exists()


# ------------------------------------------------------------------------------------------------ lists


def _hazard_due(facility, people, deadline):
    inspected = min(deadline, TODAY())
    inspection = inspect(
        facility,
        people["yl"],
        [people["yl"], people["street"]],
        day=inspected,
        hazards=[hazard_row(deadline)],
    )
    return inspection.hazards.get()


def test_overdue_from_the_day_after_the_deadline(facility, people):
    deadline = TODAY() - datetime.timedelta(days=5)
    hazard = _hazard_due(facility, people, deadline)
    user = people["yl"]
    assert not selectors.overdue_hazards(user, deadline).exists()  # on the deadline day: not overdue
    assert list(selectors.overdue_hazards(user, deadline + datetime.timedelta(days=1))) == [hazard]
    assert hazard.days_overdue(deadline + datetime.timedelta(days=1)) == 1
    services.hazard_rectify(hazard=hazard, actor=user, rectified_on=TODAY(), note="已整改")
    assert not selectors.overdue_hazards(user, TODAY() + datetime.timedelta(days=30)).exists()


def test_overdue_list_page_and_export(client, facility, people):
    yesterday = TODAY() - datetime.timedelta(days=1)
    late = _hazard_due(facility, people, yesterday)
    today = _hazard_due(facility, people, TODAY())
    Hazard.objects.filter(pk=today.pk).update(description="今天到期的隐患")
    Hazard.objects.filter(pk=late.pk).update(description="昨天到期的隐患")
    client.force_login(people["clerk"])
    page = client.get(reverse("facilities:hazard_overdue_list")).content.decode()
    assert "昨天到期的隐患" in page and "今天到期的隐患" not in page
    response = client.get(reverse("facilities:hazard_overdue_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("设施", "类别")
    assert [r[4] for r in rows[1:]] == ["昨天到期的隐患"]
    assert rows[1][-1] == 1  # 逾期天数
    # Outside the community: nothing.
    client.force_login(people["clerk12"])
    assert "昨天到期的隐患" not in client.get(reverse("facilities:hazard_overdue_list")).content.decode()


def test_period_start():
    assert selectors.period_start(D(2026, 12, 31), "month") == D(2026, 12, 1)
    assert selectors.period_start(D(2026, 12, 31), "quarter") == D(2026, 10, 1)
    assert selectors.period_start(D(2027, 1, 1), "quarter") == D(2027, 1, 1)
    assert selectors.period_start(D(2026, 6, 30), "quarter") == D(2026, 4, 1)


def _inspected_on(facility, people, day):
    """An inspection on any day (past the service's "not in the future" rule, to stand at a later today)."""
    inspection = Inspection.objects.create(
        facility=facility,
        inspected_on=day,
        kind="self",
        region_code=facility.region_code,
        recorded_by=people["yl"],
    )
    inspection.inspectors.set([people["yl"]])


def _not_inspected(people, day, period, kind=""):
    rows = Facility.objects.visible_to(people["yl"])
    return set(selectors.not_inspected(rows, day, period, kind).values_list("name", flat=True))


def test_not_inspected_across_a_month_end_and_a_year_end(people, regions):
    a = services.facility_create(
        actor=people["yl"], data=facility_data(regions["community11"], name="甲养老院")
    )
    b = services.facility_create(
        actor=people["yl"], data=facility_data(regions["community11"], name="乙养老院")
    )
    _inspected_on(a, people, D(2026, 11, 30))
    _inspected_on(b, people, D(2026, 12, 31))

    # 11-30: a inspected this month and quarter; b not yet (its inspection is later).
    assert _not_inspected(people, D(2026, 11, 30), "month") == {"乙养老院"}
    # 12-01, the month turned: a's November inspection no longer counts for the month, still for Q4.
    assert _not_inspected(people, D(2026, 12, 1), "month") == {"甲养老院", "乙养老院"}
    assert _not_inspected(people, D(2026, 12, 1), "quarter") == {"乙养老院"}
    assert _not_inspected(people, D(2026, 12, 31), "quarter") == set()
    # 2027-01-01, the year turned: neither counts for January nor for Q1.
    assert _not_inspected(people, D(2027, 1, 1), "month") == {"甲养老院", "乙养老院"}
    assert _not_inspected(people, D(2027, 1, 1), "quarter") == {"甲养老院", "乙养老院"}
    # Only a district inspection counts when asked for: a's self-check does not.
    assert _not_inspected(people, D(2026, 11, 30), "month", "district") == {"甲养老院", "乙养老院"}
    # An inactive facility is not listed.
    Facility.objects.filter(pk=b.pk).update(is_active=False)
    assert _not_inspected(people, D(2027, 1, 1), "month") == {"甲养老院"}


def test_not_inspected_page_defaults_to_this_month_and_exports(client, facility, people, regions):
    other = services.facility_create(
        actor=people["yl"], data=facility_data(regions["community11"], name="乙养老院")
    )
    inspect(other, people["clerk"], [people["clerk"]], kind="self")
    client.force_login(people["street"])
    page = client.get(reverse("facilities:uninspected_list")).content.decode()
    assert "正阳颐养院" in page and "乙养老院" not in page
    response = client.get(reverse("facilities:uninspected_list"), {"period": "quarter", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["正阳颐养院"]


def test_facility_list_filters_and_export(client, facility, people, regions):
    services.facility_create(
        actor=people["street"],
        data=facility_data(
            regions["community11"],
            kind="meal_site",
            name="正阳助餐点",
            operator_type="public",
            operator_name="",
            **NO_BEDS,
            **NO_RATING,
        ),
    )
    services.facility_create(
        actor=people["street2"],
        data=facility_data(
            regions["community21"], kind="children_home", name="二街儿童之家", uscc="", **NO_BEDS
        ),
    )
    client.force_login(people["yl"])
    url = reverse("facilities:facility_list")
    response = client.get(url, {"kind": "meal_site", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "设施名称"
    assert [r[0] for r in rows[1:]] == ["正阳助餐点"]
    response = client.get(url, {"section": "eldercare", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == ["正阳助餐点", "正阳颐养院"]
    response = client.get(url, {"section": "children", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["二街儿童之家"]
    page = client.get(url, {"q": "91110000600037341L"}).content.decode()
    assert "正阳颐养院" in page and "正阳助餐点" in page and "二街儿童之家" not in page
    page = client.get(url, {"operator_type": "public", "street": regions["street1"].code}).content.decode()
    assert "正阳助餐点" in page and "正阳颐养院" not in page
    page = client.get(url, {"rating_level": "3"}).content.decode()
    assert "正阳颐养院" in page and "助餐点" not in page.split("<tbody>")[1]
    # A community caseworker sees the community's facilities only.
    client.force_login(people["clerk12"])
    assert "正阳颐养院" not in client.get(url).content.decode()


def test_list_and_detail_query_counts(client, facility, people, django_assert_max_num_queries):
    for n in range(3):
        inspect(
            facility,
            people["yl"],
            [people["yl"], people["street"]],
            hazards=[hazard_row(TODAY()), hazard_row(TODAY(), description=f"隐患{n}")],
        )
    client.force_login(people["yl"])
    with django_assert_max_num_queries(18):
        assert client.get(reverse("facilities:facility_detail", args=[facility.pk])).status_code == 200
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("facilities:facility_list"))
    for n in range(5):
        services.facility_create(actor=people["yl"], data=facility_data(facility.region, name=f"养老院{n}"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("facilities:facility_list"))
    assert len(many) == len(few)


# ------------------------------------------------------------------------------------------------ pages


def test_scope_community_caseworker_404_outside(client, facility, people):
    client.force_login(people["clerk12"])
    assert client.get(reverse("facilities:facility_detail", args=[facility.pk])).status_code == 404
    assert client.get(reverse("facilities:facility_edit", args=[facility.pk])).status_code == 404
    assert client.get(reverse("facilities:inspection_create", args=[facility.pk])).status_code == 404
    client.force_login(people["clerk"])
    assert client.get(reverse("facilities:facility_detail", args=[facility.pk])).status_code == 200


def test_other_section_sees_but_may_not_edit(client, facility, people):
    client.force_login(people["jz"])
    detail = client.get(reverse("facilities:facility_detail", args=[facility.pk]))
    assert detail.status_code == 200
    assert reverse("facilities:facility_edit", args=[facility.pk]) not in detail.content.decode()
    refused = client.get(reverse("facilities:facility_edit", args=[facility.pk]))
    assert refused.status_code == 403
    assert "养老机构由养老服务科维护" in refused.content.decode()


def test_create_page_posts_through_the_service(client, people, regions):
    client.force_login(people["clerk"])
    url = reverse("facilities:facility_create")
    assert client.get(url).status_code == 200
    data = {k: ("" if v is None else str(v)) for k, v in facility_data(regions["community11"]).items()}
    bad = client.post(url, {**data, "beds_general": "-3"})
    assert bad.status_code == 400
    assert "普通床位不能为负数" in bad.content.decode()
    assert not Facility.objects.exists()
    response = client.post(url, data)
    facility = Facility.objects.get()
    assert response["Location"] == reverse("facilities:facility_detail", args=[facility.pk])
    assert facility.created_by == people["clerk"]


def test_inspection_page_with_hazard_rows(client, facility, people):
    client.force_login(people["yl"])
    url = reverse("facilities:inspection_create", args=[facility.pk])
    page = client.get(url)
    assert page.status_code == 200 and "hazards-TOTAL_FORMS" in page.content.decode()
    # The inspectors offered: staff whose scope holds the facility, not 局领导, not another community's.
    offered = page.content.decode()
    assert "王审核" in offered and "张经办" in offered and "孙经办" in offered
    assert "陈局长" not in offered and "钱经办" not in offered
    today = TODAY().isoformat()
    data = {
        "inspected_on": today,
        "kind": "district",
        "inspectors": [str(people["yl"].pk), str(people["street"].pk)],
        "findings": "区级全覆盖检查",
        "hazards-TOTAL_FORMS": "3",
        "hazards-INITIAL_FORMS": "0",
        "hazards-MIN_NUM_FORMS": "0",
        "hazards-MAX_NUM_FORMS": "50",
        "hazards-0-description": "灭火器过期",
        "hazards-0-severity": "general",
        "hazards-0-deadline": (TODAY() - datetime.timedelta(days=1)).isoformat(),
        "hazards-0-responsible_person": "刘院长",
        "hazards-2-description": "消防通道堵塞",
        "hazards-2-severity": "grave",
        "hazards-2-deadline": today,
        "hazards-2-responsible_person": "王主任",
    }
    bad = client.post(url, data)
    assert bad.status_code == 400
    assert "整改期限不能早于检查日期" in bad.content.decode()
    assert not Inspection.objects.exists() and not Hazard.objects.exists()
    one_inspector = client.post(
        url, {**data, "hazards-0-deadline": today, "inspectors": [str(people["yl"].pk)]}
    )
    assert "至少2名检查人员" in one_inspector.content.decode()
    assert not Inspection.objects.exists()
    response = client.post(url, {**data, "hazards-0-deadline": today})
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert sorted(inspection.hazards.values_list("description", flat=True)) == ["消防通道堵塞", "灭火器过期"]
    detail = client.get(reverse("facilities:facility_detail", args=[facility.pk])).content.decode()
    assert "灭火器过期" in detail and "整改通知书" in detail


def test_detail_lists_open_hazards_first(client, facility, people):
    inspection = inspect(
        facility,
        people["yl"],
        [people["yl"], people["street"]],
        day=TODAY() - datetime.timedelta(days=2),
        hazards=[
            hazard_row(TODAY(), description="先到期已销号"),
            hazard_row(TODAY(), description="后一项仍待整改"),
        ],
    )
    first = inspection.hazards.get(description="先到期已销号")
    services.hazard_rectify(hazard=first, actor=people["yl"], rectified_on=TODAY(), note="好了")
    services.hazard_reinspect(hazard=first, actor=people["yl"], reinspected_on=TODAY(), result="passed")
    client.force_login(people["yl"])
    page = client.get(reverse("facilities:facility_detail", args=[facility.pk])).content.decode()
    assert page.index("后一项仍待整改") < page.index("先到期已销号")


def test_rectify_and_reinspect_pages(client, facility, people):
    inspection = inspect(
        facility, people["yl"], [people["yl"], people["street"]], hazards=[hazard_row(TODAY())]
    )
    hazard = inspection.hazards.get()
    client.force_login(people["clerk"])
    future = (TODAY() + datetime.timedelta(days=1)).isoformat()
    bad = client.post(
        reverse("facilities:hazard_rectify", args=[hazard.pk]), {"rectified_on": future, "note": "x"}
    )
    assert bad.status_code == 400 and "整改完成日期不能晚于今天" in bad.content.decode()
    ok = client.post(
        reverse("facilities:hazard_rectify", args=[hazard.pk]),
        {"rectified_on": TODAY().isoformat(), "note": "已清理"},
    )
    assert ok.status_code == 302
    ok = client.post(
        reverse("facilities:hazard_reinspect", args=[hazard.pk]),
        {"reinspected_on": TODAY().isoformat(), "result": "passed", "note": ""},
    )
    assert ok.status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == "closed" and hazard.reinspected_by == people["clerk"]


# ------------------------------------------------------------------------------------------------ PDF


def test_rectification_notice_pdf(client, facility, people, settings, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: .ci/run installs poppler-utils")
    settings.BUREAU_NAME = "长春市绿园区民政局"
    inspection = inspect(
        facility,
        people["yl"],
        [people["yl"], people["street"]],
        hazards=[
            hazard_row(TODAY() + datetime.timedelta(days=7), description="三楼疏散通道堆放杂物"),
            hazard_row(
                TODAY(), description="厨房燃气报警器未检测", severity="general", responsible_person="王主任"
            ),
        ],
    )
    client.force_login(people["clerk"])
    response = client.get(reverse("facilities:rectification_notice_pdf", args=[inspection.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    compact = "".join(text.split())
    for expected in (
        "安全隐患整改通知书",
        "长春市绿园区民政局",
        "正阳颐养院",
        "孙经办",
        "王审核",
        "区级检查",
        "三楼疏散通道堆放杂物",
        "厨房燃气报警器未检测",
        "较大",
        "一般",
        "王主任",
        f"{TODAY().year}年{TODAY().month}月{TODAY().day}日",
        "盖章",
        "签字",
    ):
        assert expected in compact, expected
    # No open hazard, no notice; outside the scope, a 404.
    for hazard in inspection.hazards.all():
        services.hazard_rectify(hazard=hazard, actor=people["yl"], rectified_on=TODAY(), note="好了")
        services.hazard_reinspect(hazard=hazard, actor=people["yl"], reinspected_on=TODAY(), result="passed")
    assert client.get(reverse("facilities:rectification_notice_pdf", args=[inspection.pk])).status_code == 404
    client.force_login(people["clerk12"])
    assert client.get(reverse("facilities:rectification_notice_pdf", args=[inspection.pk])).status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "facility_create",
        "facility_edit",
        "inspection_create",
        "hazard_rectify",
        "hazard_reinspect",
        "hazard_photo_upload",
    ],
)
def test_every_form_view_saves_once_per_form(name):
    from core.facilities import views

    assert getattr(getattr(views, name), "once_per_form", False)


def test_a_double_submitted_inspection_is_saved_once(client, facility, people):
    client.force_login(people["clerk"])
    url = reverse("facilities:inspection_create", args=[facility.pk])
    data = {
        "form_token": "t" * 32,
        "inspected_on": TODAY().isoformat(),
        "kind": "self",
        "inspectors": [str(people["clerk"].pk)],
        "hazards-TOTAL_FORMS": "1",
        "hazards-INITIAL_FORMS": "0",
        "hazards-0-description": "插线板老化",
        "hazards-0-severity": "general",
        "hazards-0-deadline": TODAY().isoformat(),
        "hazards-0-responsible_person": "刘院长",
    }
    first, second = client.post(url, data), client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert Inspection.objects.count() == 1 and Hazard.objects.count() == 1


# ------------------------------------------------------------------------------------------------ demo


def test_demo_seeder_is_hooked_in_and_idempotent(make_user, regions):
    from core.portal.demo import demo_seeders

    seeders = dict(demo_seeders())
    assert "服务设施" in seeders
    # The demo accounts of 正阳街道 (the test regions use the demo district's codes).
    street = make_user("街道审核员", region="street1", username="jd01")
    make_user("社区经办人", region="community11", username="sq0101")
    make_user("科长", region="district", sections=["eldercare"], username="kezhang_yl")
    out = io.StringIO()
    seeders["服务设施"](stdout=out, rng_seed=1)
    seeders["服务设施"](stdout=out, rng_seed=1)
    assert Facility.objects.count() == 5
    assert Inspection.objects.count() == 2
    overdue = selectors.overdue_hazards(street, TODAY())
    assert [h.description for h in overdue] == ["三楼东侧疏散通道堆放杂物"]
    states = sorted(h.state for h in Hazard.objects.all())
    assert states == ["awaiting", "closed", "open"]
    not_inspected = selectors.not_inspected(Facility.objects.all(), TODAY(), "month")
    assert "正阳社区日间照料中心" not in {f.name for f in not_inspected}
    assert "正阳颐养院" in {f.name for f in not_inspected}


def test_overdue_and_uninspected_lists_query_counts_do_not_grow(client, people, regions):
    def page_queries():
        counts = []
        for name in ("facilities:hazard_overdue_list", "facilities:uninspected_list"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(name)).status_code == 200
            counts.append(len(queries))
        return counts

    client.force_login(people["street"])
    late = TODAY() - datetime.timedelta(days=3)
    first = services.facility_create(
        actor=people["yl"], data=facility_data(regions["community11"], name="一院")
    )
    _hazard_due(first, people, late)
    few = page_queries()
    for n in range(4):
        more = services.facility_create(
            actor=people["yl"], data=facility_data(regions["community12"], name=f"院{n}")
        )
        _hazard_due(more, people, late)
    assert page_queries() == few


@pytest.mark.django_db(transaction=True)
def test_concurrent_rectifications_record_one(make_user, regions):
    """Two people record the same hazard's rectification at once: the row lock lets one through."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    yl = make_user("科室经办人", region="district", sections=["eldercare"])
    street = make_user("街道审核员", region="street1")
    facility = services.facility_create(actor=yl, data=facility_data(regions["community11"]))
    hazard = inspect(facility, yl, [yl, street], hazards=[hazard_row(TODAY())]).hazards.get()
    done, refused, other = [], [], []
    barrier = threading.Barrier(3)

    def run(note):
        try:
            barrier.wait()
            done.append(services.hazard_rectify(hazard=hazard, actor=street, rectified_on=TODAY(), note=note))
        except ValidationError as exc:
            refused.append(exc)
        except Exception as exc:  # noqa: BLE001
            other.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f"整改{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not other
    assert (len(done), len(refused)) == (1, 2)
    hazard.refresh_from_db()
    assert hazard.rectification_note == done[0].rectification_note
    assert hazard.history.count() == 2  # recorded, then rectified once
