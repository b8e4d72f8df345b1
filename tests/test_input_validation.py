"""Issue 12 items 5 and 6: edit forms mask what detail pages mask, and no query parameter or typed date is a
500 — a NUL byte, a 10,000-character query, a 公示 of 99999999 days or a date in year 9999 or 0001 is a
Chinese message on the page (core.validation)."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from assistance import services as assistance_services
from core.accounts.models import AccessLog
from core.benefits.models import BenefitType, PaymentRun
from core.registry.masking import mask_account, mask_phone
from core.registry.models import Household, Person
from core.validation import DATE_OUT_OF_RANGE, INVALID_CHARACTERS
from core.workflow import services as workflow_services
from tests.factories import household_with_members

pytestmark = pytest.mark.django_db

TOO_LONG = "查询条件不能超过"


@pytest.fixture
def world(regions, make_user):
    clerk = make_user("科室经办人", region="district")
    household = household_with_members(regions["community11"], size=2)
    case = workflow_services.case_create(
        case_type="generic", applicant_household=household, region=regions["community11"], actor=clerk
    )
    dibao = assistance_services.dibao_application_create(
        household=household, actor=clerk, promise_signed=True, authorisation_signed=True, staff_relative=False
    )
    run = PaymentRun.objects.create(
        benefit_type=BenefitType.objects.get(code="dibao"), month=datetime.date(2026, 11, 1)
    )
    return {
        "clerk": clerk,
        "admin": make_user("系统管理员", region="district"),
        "case": case,
        "dibao": dibao,
        "run": run,
    }


# --- item 6: the walk over every list, search and picker --------------------------------------------------

# The pages with a search box (?q=): lists, searches and the new-application pickers.
SEARCH_URLS = [
    "registry:search",
    "registry:household_list",
    "workflow:case_list",
    "assistance:dibao_list",
    "assistance:dibao_entitlements",
    "assistance:tekun_list",
    "assistance:temp_list",
    "assistance:disability_list",
    "assistance:review_list",
    "assistance:ledger",
    "assistance:dibao_create",
    "assistance:tekun_create",
    "assistance:temp_create",
    "assistance:disability_create",
    "benefits:run_detail",
    "accounts:access_log",
]
BAD_QUERIES = [
    ("q=%00", INVALID_CHARACTERS),  # the raw query string of the probe
    ({"q": "张\x00三"}, INVALID_CHARACTERS),
    ({"q": "\x00" * 200}, INVALID_CHARACTERS),
    ({"q": "张" * 10_000}, TOO_LONG),
]
# Dates and months typed into a filter.
BAD_DATES = [
    ("accounts:access_log", {"date_from": "9999-12-31"}, DATE_OUT_OF_RANGE),
    ("accounts:access_log", {"date_to": "9999-12-31"}, DATE_OUT_OF_RANGE),
    ("accounts:access_log", {"date_from": "0001-01-01"}, DATE_OUT_OF_RANGE),
    ("accounts:access_log", {"date_to": "0001-01-01"}, DATE_OUT_OF_RANGE),
    ("benefits:run_list", {"month": "9999-12"}, "月份超出有效范围"),
    ("benefits:run_list", {"month": "0001-01"}, "月份超出有效范围"),
    ("assistance:disability_comparison", {"month": "9999-12"}, "月份超出有效范围"),
]


def _get(client, world, name: str, params):
    client.force_login(world["admin"] if name == "accounts:access_log" else world["clerk"])
    url = reverse(name, args=[world["run"].pk] if name == "benefits:run_detail" else None)
    if isinstance(params, str):
        return client.get(f"{url}?{params}")
    return client.get(url, params)


@pytest.mark.parametrize(("params", "message"), BAD_QUERIES, ids=["%00", "nul", "nul*200", "10000"])
@pytest.mark.parametrize("name", SEARCH_URLS)
def test_a_bad_search_query_is_a_chinese_message_not_a_500(client, world, name, params, message):
    response = _get(client, world, name, params)
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize(("name", "params", "message"), BAD_DATES)
def test_an_out_of_range_date_filter_is_a_chinese_message_not_a_500(client, world, name, params, message):
    response = _get(client, world, name, params)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_nul_in_a_choice_of_the_household_list_is_ignored(client, world):
    response = _get(client, world, "registry:household_list", {"area_type": "\x00", "street": "\x00"})
    assert response.status_code == 200


# --- item 6: the 公示 form's days and start ---------------------------------------------------------------

TODAY = "today"


@pytest.mark.parametrize(
    ("start", "days", "message"),
    [
        (TODAY, "99999999", "公示天数不能超过365天"),
        (TODAY, "0", "公示天数至少为1天"),
        ("9999-12-31", "7", DATE_OUT_OF_RANGE),
        ("0001-01-01", "7", DATE_OUT_OF_RANGE),
        ("9999-12-31", "99999999", "公示天数不能超过365天"),
    ],
)
def test_the_generic_notice_form_refuses_absurd_days_and_dates(client, world, start, days, message):
    client.force_login(world["clerk"])
    start = timezone.localdate().isoformat() if start == TODAY else start
    response = client.post(
        reverse("workflow:notice_open", args=[world["case"].pk]),
        {"start_date": start, "days": days, "place": "社区公示栏"},
        follow=True,
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not world["case"].notices.exists()


@pytest.mark.parametrize(
    ("start", "days", "message"),
    [
        (TODAY, "99999999", "公示天数不能超过365天"),
        ("9999-12-31", "7", DATE_OUT_OF_RANGE),
        ("0001-01-01", "7", DATE_OUT_OF_RANGE),
    ],
)
def test_the_kit_notice_form_refuses_absurd_days_and_dates(client, world, start, days, message):
    client.force_login(world["clerk"])
    start = timezone.localdate().isoformat() if start == TODAY else start
    response = client.post(
        reverse("assistance:dibao_notice", args=[world["dibao"].pk]),
        {"action": "start", "start_date": start, "days": days, "place": "社区公示栏"},
        follow=True,
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_notice_open_refuses_a_notice_longer_than_a_year(world):
    with pytest.raises(workflow_services.TransitionError, match="公示天数不能超过365天"):
        workflow_services.notice_open(
            case=world["case"],
            start_date=timezone.localdate(),
            days=99_999_999,
            place="社区公示栏",
            actor=world["clerk"],
        )


# --- item 5: edit forms mask what detail pages mask -------------------------------------------------------

ACCOUNT, HOUSEHOLD_PHONE, PERSON_PHONE = "6222020200112233445", "13812345678", "13987654321"


@pytest.fixture
def numbered(regions):
    """A household with a bank account and phone, its head with a phone of their own."""
    household = household_with_members(regions["community11"], size=2)
    Household.objects.filter(pk=household.pk).update(
        bank_name="中国工商银行", bank_account=ACCOUNT, phone=HOUSEHOLD_PHONE, account_holder="户主本人"
    )
    Person.objects.filter(pk=household.head_id).update(phone=PERSON_PHONE)
    household.refresh_from_db()
    return household


def _form_data(response) -> dict[str, str]:
    """What the browser would post back: every field of the rendered form as shown."""
    form = response.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    return data


def test_household_edit_page_masks_numbers_for_a_caseworker(client, make_user, numbered):
    client.force_login(make_user("社区经办人", region="community11"))
    response = client.get(reverse("registry:household_edit", args=[numbered.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert ACCOUNT not in page and HOUSEHOLD_PHONE not in page
    assert mask_account(ACCOUNT) in page and mask_phone(HOUSEHOLD_PHONE) in page
    assert not AccessLog.objects.exists()


def test_person_edit_page_masks_the_phone_for_a_caseworker(client, make_user, numbered):
    client.force_login(make_user("社区经办人", region="community11"))
    page = client.get(reverse("registry:person_edit", args=[numbered.head_id])).content.decode()
    assert PERSON_PHONE not in page
    assert mask_phone(PERSON_PHONE) in page


def test_saving_the_masked_household_form_unchanged_keeps_the_numbers(client, make_user, numbered):
    client.force_login(make_user("社区经办人", region="community11"))
    url = reverse("registry:household_edit", args=[numbered.pk])
    data = _form_data(client.get(url))
    data["address"] = "新地址 1 号"
    response = client.post(url, data)
    assert response.status_code == 302
    numbered.refresh_from_db()
    assert (numbered.address, numbered.bank_account, numbered.phone) == (
        "新地址 1 号",
        ACCOUNT,
        HOUSEHOLD_PHONE,
    )


def test_a_changed_number_replaces_the_stored_one_and_a_half_edited_mask_is_refused(
    client, make_user, numbered
):
    client.force_login(make_user("社区经办人", region="community11"))
    url = reverse("registry:household_edit", args=[numbered.pk])
    data = _form_data(client.get(url))
    half = mask_account(ACCOUNT)[:-1] + "9"
    response = client.post(url, {**data, "bank_account": half})
    assert response.status_code == 400
    assert "银行账号不能含有“*”" in response.content.decode()
    numbered.refresh_from_db()
    assert numbered.bank_account == ACCOUNT
    response = client.post(url, {**data, "bank_account": "6217000011112222", "phone": "13600001111"})
    assert response.status_code == 302
    numbered.refresh_from_db()
    assert (numbered.bank_account, numbered.phone) == ("6217000011112222", "13600001111")


def test_saving_the_masked_person_form_unchanged_keeps_the_phone(client, make_user, numbered):
    client.force_login(make_user("社区经办人", region="community11"))
    url = reverse("registry:person_edit", args=[numbered.head_id])
    data = _form_data(client.get(url))
    data["ethnicity"] = "满族"
    assert client.post(url, data).status_code == 302
    head = Person.objects.get(pk=numbered.head_id)
    assert (head.ethnicity, head.phone) == ("满族", PERSON_PHONE)
    response = client.post(url, {**data, "phone": "139****0000"})
    assert response.status_code == 400
    assert "联系电话不能含有“*”" in response.content.decode()


def test_the_permitted_role_sees_and_edits_the_full_numbers_and_the_reveal_is_logged(
    client, make_user, numbered
):
    section_clerk = make_user("科室经办人", region="district")
    client.force_login(section_clerk)
    url = reverse("registry:household_edit", args=[numbered.pk])
    response = client.get(url)
    page = response.content.decode()
    assert ACCOUNT in page and HOUSEHOLD_PHONE in page
    log = AccessLog.objects.get()
    assert (log.user, log.household_id, log.fields) == (section_clerk, numbered.pk, "银行账号、联系电话")
    assert "修改信息页面" in log.detail
    response = client.post(url, {**_form_data(response), "phone": "13600001111"})
    assert response.status_code == 302
    numbered.refresh_from_db()
    assert (numbered.bank_account, numbered.phone) == (ACCOUNT, "13600001111")
    page = client.get(reverse("registry:person_edit", args=[numbered.head_id])).content.decode()
    assert PERSON_PHONE in page
    assert AccessLog.objects.filter(person_id=numbered.head_id, fields="联系电话").count() == 1


def _project_forms() -> list[type[forms.BaseForm]]:
    """Every form class the project defines: the forms modules of core, the bureaus and reports."""
    import importlib
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    found: dict[str, type[forms.BaseForm]] = {}
    for path in sorted(root.glob("*/**/*forms*.py")):
        if ".venv" in path.parts or "migrations" in path.parts or "tests" in path.parts:
            continue
        module = importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{value.__name__}"] = value
    return [found[k] for k in sorted(found)]


def test_every_date_a_form_takes_is_bounded():
    """A date typed into any form (create, edit, step, filter) is read by BoundedDateField: year 9999 is a
    form error, never an OverflowError in the date arithmetic after it."""
    from core.validation import BoundedDateField

    unbounded = []
    checked = 0
    for form_class in _project_forms():
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.DateField) and not isinstance(field, forms.DateTimeField):
                checked += 1
                if not isinstance(field, BoundedDateField):
                    unbounded.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
    assert checked > 20
    assert unbounded == []
