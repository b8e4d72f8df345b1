"""Issue 13 item 10: 临时救助 where the emergency happens (急难发生地, DOMAIN.md) — a person without a household
in the district is registered without one (non-resident fact, ID number validated and encrypted), the case is
scoped by the community of the emergency, approved and paid once in the month's one-off run; once per cause and
year holds for them too."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assistance.models import TempAssistanceCase
from assistance.temporary import services
from assistance.temporary.case_types import TempStatus
from core.benefits.models import Entitlement, PaymentLine, PaymentRun
from core.benefits.months import month_start
from core.registry.choices import FactKind, ResidenceStatus
from core.registry.crypto import id_number_q
from core.registry.models import Person, PersonFact
from core.workflow.models import Case
from reports.payment_roster import roster_lines
from tests.factories import household_with_members, valid_id_number

# A 居民身份证 of another province (Henan), valid check digit.
TRAVELLER_ID = valid_id_number(datetime.date(1985, 3, 12), area="410102")


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "chief": make_user("科长", region="district"),
        "clerk12": make_user("社区经办人", region="community12"),
        "clerk21": make_user("社区经办人", region="community21"),
        "reviewer2": make_user("街道审核员", region="street2"),
    }


def _person_data(**overrides):
    data = {
        "name": "王过客",
        "id_type": "ric",
        "id_number": TRAVELLER_ID,
        "phone": "13900001111",
        "hukou_place": "河南省郑州市中原区建设路1号",
    }
    return {**data, **overrides}


def _create(region, actor, *, person=None, **kwargs):
    data = {
        "kind": "emergency",
        "cause": "accident",
        "cause_detail": "途经本区时遭遇交通事故，随身财物丢失，无钱返乡。",
        "emergency_address": "正阳街道某路与某街交汇处",
    }
    return services.temp_case_create_nonresident(
        actor=actor, region=region, person_data=_person_data(**(person or {})), **{**data, **kwargs}
    )


def test_a_nonresident_is_helped_end_to_end(people, regions):
    community = regions["community11"]
    month = month_start(timezone.localdate())

    temp = _create(community, people["clerk"])

    # The person: no household, scoped by the community of the emergency, ID number encrypted and found
    # by its keyed hash, the non-resident fact naming the 户籍地
    person = Person.objects.get(id_number_q(TRAVELLER_ID))
    assert person.pk == temp.person_id and person.household_id is None
    assert person.region_code == community.code and person.birth_date == datetime.date(1985, 3, 12)
    fact = PersonFact.objects.get(person=person, kind=FactKind.RESIDENCE)
    assert fact.value == ResidenceStatus.NON_RESIDENT and "河南省郑州市" in fact.note
    # The case: no household, in the community of the emergency
    assert temp.household_id is None and temp.region_code == community.code
    assert temp.emergency_address.startswith("正阳街道")
    case = Case.objects.get(pk=temp.pk)
    assert case.region_id == community.pk and case.applicant_name == "王过客"
    assert case.applicant_household_id is None and case.status == TempStatus.REGISTERED

    # 受理 → 拟救助金额 → 报乡镇审批 → 批准 by the street of the emergency
    services.temp_transition(temp=temp, name="accept", actor=people["clerk"])
    services.temp_proposal_record(
        temp=temp, actor=people["clerk"], amount="800.00", findings="经核实，当事人无其他救助来源。"
    )
    services.temp_submit(temp=temp, actor=people["clerk"])
    services.temp_transition(temp=temp, name="township_approve", actor=people["reviewer"], comment="同意")

    temp.refresh_from_db()
    assert temp.approved is True and temp.approved_amount == Decimal("800.00")
    entitlement = Entitlement.objects.get(case_id=temp.pk)
    assert entitlement.person_id == person.pk and entitlement.household_id is None
    assert entitlement.region_code == community.code and entitlement.area_type == community.area_type
    line = temp.payment_line
    assert line.line_type == PaymentLine.LineType.ONE_OFF and line.amount == Decimal("800.00")
    assert line.household_id is None and line.region_code == community.code
    assert line.run.kind == PaymentRun.Kind.ONE_OFF and line.run.month == month
    assert roster_lines(people["chief"], line.run).line_count == 1


def test_the_case_is_scoped_to_the_street_of_the_emergency(client, people, regions):
    temp = _create(regions["community11"], people["clerk"])
    detail = reverse("assistance:temp_detail", args=[temp.pk])

    client.force_login(people["clerk"])
    page = client.get(detail)
    html = page.content.decode()
    assert page.status_code == 200 and "王过客" in html
    assert "非本区户籍" in html and "正阳街道某路与某街交汇处" in html
    assert "王过客" in client.get(reverse("assistance:temp_list")).content.decode()
    # another street sees neither the case nor the person
    client.force_login(people["clerk21"])
    assert client.get(detail).status_code == 404
    assert "王过客" not in client.get(reverse("assistance:temp_list")).content.decode()
    assert not Person.objects.visible_to(people["clerk21"]).filter(pk=temp.person_id).exists()
    # nor may it decide it
    services.temp_transition(temp=temp, name="accept", actor=people["clerk"])
    services.temp_proposal_record(temp=temp, actor=people["clerk"], amount="500", findings="已核实。")
    services.temp_submit(temp=temp, actor=people["clerk"])
    with pytest.raises(Exception):  # noqa: B017 — the engine refuses (scope): TransitionError or 404-like
        services.temp_transition(temp=temp, name="township_approve", actor=people["reviewer2"])
    assert Case.objects.get(pk=temp.pk).status == TempStatus.TOWNSHIP_APPROVAL


def test_a_community_outside_the_scope_is_refused(people, regions):
    with pytest.raises(ValidationError) as caught:
        _create(regions["community21"], people["clerk"])
    assert "不在您的管辖范围内" in str(caught.value.message_dict["region"])
    assert not Person.objects.filter(id_number_q(TRAVELLER_ID)).exists()


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        (TRAVELLER_ID[:-1] + ("0" if TRAVELLER_ID[-1] != "0" else "1"), "校验"),
        ("41010219851312001X", "出生日期"),
        ("4101021985", "18位"),
        ("", "身份证"),
    ],
)
def test_id_number_errors_in_chinese_and_nothing_saved(people, regions, id_number, message):
    with pytest.raises(ValidationError) as caught:
        _create(regions["community11"], people["clerk"], person={"id_number": id_number})
    errors = caught.value.message_dict
    assert message in " ".join(errors["id_number"]), errors
    assert not Person.objects.filter(name="王过客").exists()
    assert not TempAssistanceCase.objects.exists() and not Case.objects.exists()


def test_missing_fields_are_all_reported_and_nothing_saved(people, regions):
    with pytest.raises(ValidationError) as caught:
        _create(
            regions["community11"],
            people["clerk"],
            person={"name": "", "hukou_place": ""},
            emergency_address="",
            cause_detail="",
        )
    errors = caught.value.message_dict
    assert {"name", "hukou_place", "emergency_address", "cause_detail"} <= set(errors), errors
    assert (
        "请填写户籍地" in errors["hukou_place"] and "请填写急难发生地详细地址" in errors["emergency_address"]
    )
    assert not Person.objects.filter(id_number_q(TRAVELLER_ID)).exists() and not Case.objects.exists()


def test_once_per_cause_and_year_for_a_nonresident(people, regions):
    first = _create(regions["community11"], people["clerk"])
    # Helped again for the same cause the same year — even where another community's caseworker enters it:
    # the same person record is found by the ID number, and the application is refused with the earlier case
    second = _create(regions["community12"], people["clerk12"], emergency_address="同康社区某小区门口")
    second.refresh_from_db()
    assert second.person_id == first.person_id
    assert second.earlier_case_id == first.pk
    assert Case.objects.get(pk=second.pk).status == TempStatus.REFUSED
    assert first.case.number in second.reasons and "一年内只救助一次" in second.reasons
    assert Person.objects.filter(id_number_q(TRAVELLER_ID)).count() == 1
    # another cause is a new case
    third = _create(regions["community11"], people["clerk"], kind="emergency", cause="sudden_illness")
    assert third.earlier_case_id is None and Case.objects.get(pk=third.pk).status == TempStatus.REGISTERED


def test_a_resident_or_another_name_is_refused(people, regions):
    resident = household_with_members(regions["community11"], size=1).head
    with pytest.raises(ValidationError) as caught:
        _create(
            regions["community11"],
            people["clerk"],
            person={"id_number": resident.id_number, "name": resident.name},
        )
    assert "请从其家庭档案申请" in " ".join(caught.value.message_dict["id_number"])
    _create(regions["community11"], people["clerk"])
    with pytest.raises(ValidationError) as caught:
        _create(regions["community11"], people["clerk"], person={"name": "李四"}, cause="fire")
    assert "姓名与该证件号码已登记的姓名不一致" in " ".join(caught.value.message_dict["name"])


def test_create_page_registers_person_and_case(client, people, regions):
    client.force_login(people["clerk"])
    url = reverse("assistance:temp_create_nonresident")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "急难发生地所在社区（村）" in html and "户籍地" in html and regions["community21"].code not in html

    # A wrong ID number: the form again with the error beside the field, nothing saved
    bad = {
        **_person_data(id_number=TRAVELLER_ID[:-1] + ("0" if TRAVELLER_ID[-1] != "0" else "1")),
        "region": regions["community11"].code,
        "emergency_address": "正阳街道某路",
        "kind": "emergency",
        "cause": "accident",
        "cause_detail": "交通事故。",
        "applied_on": timezone.localdate().isoformat(),
    }
    response = client.post(url, bad)
    assert response.status_code == 400 and "校验" in response.content.decode()
    assert not Person.objects.filter(name="王过客").exists()

    good = {**bad, "id_number": TRAVELLER_ID}
    response = client.post(url, good)
    assert response.status_code == 302, response.content.decode()[:2000]
    temp = TempAssistanceCase.objects.get()
    assert response["Location"] == reverse("assistance:temp_detail", args=[temp.pk])
    assert temp.household_id is None and temp.person.name == "王过客"
