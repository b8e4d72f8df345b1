"""特困 集中供养 paid to the institution's own account: the facility register keeps the institution's 开户银行,
银行账号 (encrypted at rest, shown masked) and 账户名称, and the 花名册 writes them for the lines whose
entitlement names the facility as payee — never the household's account, and a clear note while the
institution has none."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun, Standard
from core.facilities import services
from core.facilities.models import Facility
from core.registry.masking import mask_account
from reports.payment_roster import (
    HEADERS,
    PAYEE_WITHOUT_ACCOUNT,
    ROW_FIELDS,
    build_payment_roster,
    roster_lines,
    roster_queryset,
    write_roster_xlsx,
)
from reports.registry import BuildContext
from tests.factories import household_with_members

MONTH = datetime.date(2026, 11, 1)
ACCOUNT = "6222080100001234567"
HOUSEHOLD_ACCOUNT = "6217000012345600001"


@pytest.fixture
def people(make_user):
    return {
        "ke": make_user("科室经办人", region="district", sections=["assistance"], display_name="救助经办"),
        "chief": make_user("科长", region="district", sections=["assistance"], display_name="救助科长"),
    }


def _data(region, **overrides) -> dict:
    data = {
        "kind": "tekun_institution",
        "name": "绿园区社会福利中心",
        "region": region.code,
        "address": "绿园区民政路1号",
        "operator_type": "public",
        "bank_name": "中国工商银行长春绿园支行",
        "bank_account": ACCOUNT,
        "account_name": "长春市绿园区社会福利中心",
    }
    data.update(overrides)
    return data


def _create(people, regions, **overrides) -> Facility:
    return services.facility_create(actor=people["ke"], data=_data(regions["street1"], **overrides))


def _errors(people, regions, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        _create(people, regions, **overrides)
    return exc.value.message_dict


# --- the facility's account ---------------------------------------------------------------------------


def test_account_stored_encrypted_and_spaces_dropped(people, regions):
    facility = _create(people, regions, bank_account="6222 0801 0000 1234 567")
    facility.refresh_from_db()
    assert facility.bank_account == ACCOUNT
    assert facility.bank_name == "中国工商银行长春绿园支行"
    assert facility.account_name == "长春市绿园区社会福利中心"
    with connection.cursor() as cursor:
        cursor.execute("SELECT bank_account FROM facilities_facility WHERE id = %s", [facility.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("gAAAAA") and ACCOUNT not in stored
    # the history row is encrypted too
    with connection.cursor() as cursor:
        cursor.execute("SELECT bank_account FROM facilities_historicalfacility WHERE id = %s", [facility.pk])
        assert all(ACCOUNT not in row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"bank_account": "62220801A0001234"}, "bank_account", "银行账号只能包含数字"),
        ({"bank_account": "62220801000"}, "bank_account", "银行账号应为12至30位数字，当前11位"),
        ({"bank_account": "6" * 31}, "bank_account", "银行账号应为12至30位数字，当前31位"),
        ({"bank_account": "6222****4567"}, "bank_account", "银行账号不能含有“*”，请填写完整账号"),
        ({"bank_name": ""}, "bank_name", "填写银行账号时请同时填写开户银行"),
        ({"account_name": ""}, "account_name", "填写银行账号时请同时填写账户名称"),
        ({"bank_account": ""}, "bank_account", "填写了开户银行或账户名称，请同时填写银行账号"),
    ],
)
def test_account_rules_in_chinese(people, regions, overrides, field, message):
    assert _errors(people, regions, **overrides)[field] == [message]
    assert not Facility.objects.exists()


def test_twelve_and_thirty_digits_are_accepted_and_no_account_at_all_is_fine(people, regions):
    assert _create(people, regions, bank_account="1" * 12).bank_account == "1" * 12
    assert _create(people, regions, name="二号院", bank_account="2" * 30).bank_account == "2" * 30
    bare = _create(people, regions, name="三号院", bank_name="", bank_account="", account_name="")
    assert bare.bank_account == "" and bare.bank_name == ""


def test_update_keeps_the_number_behind_its_mask_and_refuses_a_half_changed_mask(people, regions):
    facility = _create(people, regions)
    masked = mask_account(ACCOUNT)
    assert masked != ACCOUNT and "*" in masked
    services.facility_update(
        facility=facility, actor=people["ke"], data=_data(regions["street1"], bank_account=masked)
    )
    facility.refresh_from_db()
    assert facility.bank_account == ACCOUNT
    with pytest.raises(ValidationError) as exc:
        services.facility_update(
            facility=facility,
            actor=people["ke"],
            data=_data(regions["street1"], bank_account="9" + masked[1:]),
        )
    assert exc.value.message_dict["bank_account"] == ["银行账号不能含有“*”，请填写完整账号"]
    # A change that does not carry the account (an older caller) leaves it as it was.
    data = _data(regions["street1"], address="绿园区民政路2号")
    for key in ("bank_name", "bank_account", "account_name"):
        del data[key]
    services.facility_update(facility=facility, actor=people["ke"], data=data)
    facility.refresh_from_db()
    assert facility.address == "绿园区民政路2号" and facility.bank_account == ACCOUNT
    # A new number replaces it
    services.facility_update(
        facility=facility, actor=people["ke"], data=_data(regions["street1"], bank_account="6222080199998888")
    )
    facility.refresh_from_db()
    assert facility.bank_account == "6222080199998888"


def test_facility_page_and_edit_form_show_the_account_masked(client, people, regions):
    facility = _create(people, regions)
    client.force_login(people["ke"])
    page = client.get(reverse("facilities:facility_detail", args=[facility.pk])).content.decode()
    assert mask_account(ACCOUNT) in page
    assert ACCOUNT not in page
    assert "中国工商银行长春绿园支行" in page and "长春市绿园区社会福利中心" in page

    form = client.get(reverse("facilities:facility_edit", args=[facility.pk])).content.decode()
    assert f'value="{mask_account(ACCOUNT)}"' in form and ACCOUNT not in form

    # Posting the form back as shown keeps the stored number
    response = client.post(
        reverse("facilities:facility_edit", args=[facility.pk]),
        {**_data(regions["street1"], bank_account=mask_account(ACCOUNT)), "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    facility.refresh_from_db()
    assert facility.bank_account == ACCOUNT

    # A bad number comes back beside the field, in Chinese
    response = client.post(
        reverse("facilities:facility_edit", args=[facility.pk]),
        {**_data(regions["street1"], bank_account="12345"), "is_active": "on"},
    )
    assert response.status_code == 400
    assert "银行账号应为12至30位数字，当前5位" in response.content.decode()


def test_facility_without_account_says_so_on_its_page(client, people, regions):
    facility = _create(people, regions, bank_name="", bank_account="", account_name="")
    client.force_login(people["ke"])
    page = client.get(reverse("facilities:facility_detail", args=[facility.pk])).content.decode()
    assert "集中供养的基本生活费须发放到机构账户，请登记" in page


def test_rotating_the_key_rewrites_the_facility_account(people, regions):
    facility = _create(people, regions)
    old = settings.SALT_KEY
    with override_settings(SALT_KEY=["the-new-field-key-0123456789abcdef", *old]):
        call_command("rekey_personal_data", stdout=io.StringIO())
    with override_settings(SALT_KEY=["the-new-field-key-0123456789abcdef"]):
        assert Facility.objects.get(pk=facility.pk).bank_account == ACCOUNT
        assert all(h.bank_account == ACCOUNT for h in Facility.history.filter(id=facility.pk))


# --- the roster -----------------------------------------------------------------------------------------


@pytest.fixture
def basic(db):
    benefit, _ = BenefitType.objects.get_or_create(code="payee_test", defaults={"name": "测试特困基本生活费"})
    Standard.objects.create(
        benefit_type=benefit,
        area_type="urban",
        amount=Decimal("900"),
        effective_from=datetime.date(2021, 1, 1),
    )
    return benefit


def _household(community, n: int):
    household = household_with_members(community, size=1)
    household.bank_name = "吉林银行绿园支行"
    household.bank_account = f"{HOUSEHOLD_ACCOUNT[:-5]}{n:05d}"
    household.account_holder = "户主本人"
    household.save(update_fields=["bank_name", "bank_account", "account_holder"])
    return household


def _lines(run, community, *, payees: list[Facility | None]) -> list[PaymentLine]:
    """One line per entry: paid to that facility (集中供养), or to the household's own account (None)."""
    lines = []
    for n, facility in enumerate(payees):
        household = _household(community, n)
        params = {"tier": "centralised"}
        if facility is not None:
            params |= {"payee": facility.name, "payee_facility": facility.pk}
        entitlement = Entitlement.objects.create(
            benefit_type=run.benefit_type,
            household=household,
            person=household.head,
            region_code=community.code,
            area_type=community.area_type,
            start_month=datetime.date(2026, 1, 1),
            params=params,
        )
        lines.append(
            PaymentLine.objects.create(
                run=run,
                entitlement=entitlement,
                household=household,
                person=household.head,
                region_code=community.code,
                line_type=PaymentLine.LineType.REGULAR,
                for_month=run.month,
                covered_persons=1,
                base_amount=Decimal("900.00"),
                amount=Decimal("900.00"),
            )
        )
    return lines


def _sheet_rows(user, run) -> list[dict]:
    out = io.BytesIO()
    write_roster_xlsx(roster_lines(user, run), out)
    out.seek(0)
    rows = [list(r) for r in load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True)]
    header = rows.index(HEADERS)
    return [dict(zip(HEADERS, r, strict=False)) for r in rows[header + 1 :] if len(r) > 3 and r[3]]


def test_roster_line_of_a_centralised_person_carries_the_institutions_account(people, regions, basic):
    facility = _create(people, regions)
    run = PaymentRun.objects.create(benefit_type=basic, month=MONTH)
    paid_to_institution, own = _lines(run, regions["community11"], payees=[facility, None])

    rows = {
        r["recipient_id_number"]: r
        for r in (dict(zip(ROW_FIELDS, x, strict=True)) for x in roster_queryset(people["chief"], run))
    }
    institution_row = rows[paid_to_institution.person.id_number]
    assert institution_row["bank_name"] == "中国工商银行长春绿园支行"
    assert institution_row["bank_account"] == ACCOUNT
    assert institution_row["account_holder"] == "长春市绿园区社会福利中心"
    assert institution_row["payee_facility_id"] == facility.pk
    own_row = rows[own.person.id_number]
    assert own_row["bank_account"] == own.household.bank_account and own_row["account_holder"] == "户主本人"
    assert own_row["payee_facility_id"] is None

    sheet = {r["身份证号码"]: r for r in _sheet_rows(people["chief"], run)}
    cells = sheet[paid_to_institution.person.id_number]
    assert cells["开户银行"] == "中国工商银行长春绿园支行"
    assert cells["银行账号"] == ACCOUNT
    assert cells["代领人"] == "长春市绿园区社会福利中心"
    # the household's own account is nowhere on the institution's line
    assert paid_to_institution.household.bank_account not in [str(v) for v in cells.values()]
    assert "吉林银行绿园支行" not in cells.values() and "户主本人" not in cells.values()
    assert sheet[own.person.id_number]["银行账号"] == own.household.bank_account


def test_institution_without_account_gives_a_clear_note_not_a_blank(people, regions, basic):
    facility = _create(people, regions, bank_name="", bank_account="", account_name="")
    run = PaymentRun.objects.create(benefit_type=basic, month=MONTH)
    (line,) = _lines(run, regions["community11"], payees=[facility])
    (row,) = [dict(zip(ROW_FIELDS, x, strict=True)) for x in roster_queryset(people["chief"], run)]
    assert not row["bank_account"] and not row["bank_name"]  # never the household's
    assert row["account_holder"] == facility.name  # the payee the decision named

    (cells,) = _sheet_rows(people["chief"], run)
    assert cells["银行账号"] == PAYEE_WITHOUT_ACCOUNT == "（供养机构未登记账号）"
    assert cells["代领人"] == facility.name
    assert line.household.bank_account not in [str(v) for v in cells.values()]

    # Once the institution registers its account, the same run's roster carries it
    services.facility_update(facility=facility, actor=people["ke"], data=_data(regions["street1"]))
    (cells,) = _sheet_rows(people["chief"], run)
    assert cells["银行账号"] == ACCOUNT and cells["代领人"] == "长春市绿园区社会福利中心"


def test_roster_queries_do_not_grow_with_institution_lines(people, regions, basic):
    first = _create(people, regions)
    second = _create(people, regions, name="东区敬老院", bank_account="6228480012345678")
    counts = []
    for month, payees in (
        (datetime.date(2026, 10, 1), [first, None]),
        (datetime.date(2026, 9, 1), [first, second, first, second, None, first, None]),
    ):
        run = PaymentRun.objects.create(benefit_type=basic, month=month)
        _lines(run, regions["community11"], payees=payees)
        ctx = BuildContext(job_id=0, params={"run": run.pk}, user=people["chief"], output=io.BytesIO())
        with CaptureQueriesContext(connection) as queries:
            result = build_payment_roster(ctx)
        assert result.record_count == len(payees) and result.contains_personal_data
        counts.append(len(queries))
        ctx.output.seek(0)
        sheet = load_workbook(ctx.output, read_only=True).worksheets[0]
        accounts = [r[12] for r in sheet.iter_rows(min_row=4, values_only=True) if len(r) > 3 and r[3]]
        assert sorted(a for a in accounts if a in (ACCOUNT, "6228480012345678")) == sorted(
            ACCOUNT if p is first else "6228480012345678" for p in payees if p is not None
        )
    assert counts[0] == counts[1], counts
