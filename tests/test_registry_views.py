"""Registry pages: search and scope, masking, reveal with its access log, bounded list queries, forms."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.accounts.models import AccessLog
from core.registry import services
from core.registry.idnumbers import check_char
from core.registry.models import Attachment, Household, LifeEvent, Person
from tests.factories import household_with_members, valid_id_number

pytestmark = pytest.mark.django_db

CASEWORKER = "社区经办人"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def caseworker(make_user):
    return make_user(CASEWORKER, region="community11")


@pytest.fixture
def other_street(make_user):
    return make_user(CASEWORKER, region="community21")


@pytest.fixture
def household(regions):
    return household_with_members(regions["community11"], size=3, number="220106001001000042")


def login(client, user):
    client.force_login(user)
    return client


# ------------------------------------------------------------------------------------------------- search


def test_search_by_full_id_number_finds_in_scope(client, caseworker, household):
    person = household.members.order_by("pk").first()
    response = login(client, caseworker).get(reverse("registry:search"), {"q": person.id_number.lower()})
    assert response.status_code == 200
    assert person.name in response.content.decode()


def test_search_by_partial_name(client, caseworker, household):
    person = Person.objects.filter(household=household).first()
    person.name = "欧阳明华"
    person.save()
    response = login(client, caseworker).get(reverse("registry:search"), {"q": "明华"})
    assert "欧阳明华" in response.content.decode()


@pytest.mark.parametrize("query", ["220106001001000042", "220106001001"])
def test_search_by_household_number_exact_or_prefix(client, caseworker, household, query):
    response = login(client, caseworker).get(reverse("registry:search"), {"q": query})
    assert reverse("registry:household_detail", args=[household.pk]) in response.content.decode()


def test_search_does_not_find_out_of_scope(client, other_street, household):
    person = household.members.order_by("pk").first()
    client = login(client, other_street)
    for query in (person.id_number, person.name, household.number):
        html = client.get(reverse("registry:search"), {"q": query}).content.decode()
        assert reverse("registry:person_detail", args=[person.pk]) not in html
        assert reverse("registry:household_detail", args=[household.pk]) not in html


def test_out_of_scope_household_and_person_are_404(client, other_street, household):
    client = login(client, other_street)
    assert client.get(reverse("registry:household_detail", args=[household.pk])).status_code == 404
    assert client.get(reverse("registry:person_detail", args=[household.head_id])).status_code == 404
    assert client.get(reverse("registry:income_add", args=[household.pk])).status_code == 404


def test_pages_need_permissions(client, make_user, household):
    nobody = make_user(region="community11")
    client = login(client, nobody)
    assert client.get(reverse("registry:household_detail", args=[household.pk])).status_code == 403
    assert client.get(reverse("registry:household_list")).status_code == 403
    assert client.get(reverse("registry:search"), {"q": "x"}).status_code == 403


def test_leader_cannot_open_the_create_form(client, make_user):
    leader = make_user("局领导", region="district")
    assert login(client, leader).get(reverse("registry:household_create")).status_code == 403


# ------------------------------------------------------------------------------------------------- masking


def test_numbers_are_masked_in_rendered_pages(client, caseworker, household):
    household.bank_account = "6228480012345678901"
    household.phone = "13912345678"
    household.save()
    person = household.head
    client = login(client, caseworker)
    pages = [
        reverse("registry:household_detail", args=[household.pk]),
        reverse("registry:person_detail", args=[person.pk]),
        reverse("registry:household_list"),
        reverse("registry:search") + f"?q={person.id_number}",
    ]
    for url in pages:
        # The search box echoes what the user typed; nothing else may show the full number.
        html = client.get(url).content.decode().replace(f'value="{person.id_number}"', "")
        assert person.id_number not in html, url
        assert "6228480012345678901" not in html, url
        assert "13912345678" not in html, url
    detail = client.get(pages[0]).content.decode()
    assert person.id_number[:6] + "********" + person.id_number[-4:] in detail
    assert "data-id-number" not in detail
    assert reverse("registry:reveal", args=["person", person.pk]) not in detail  # no permission: no button


def test_reveal_returns_full_numbers_and_logs(client, make_user, household):
    chief = make_user("科长", region="district")
    person = household.head
    client = login(client, chief)
    detail = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert reverse("registry:reveal", args=["person", person.pk]) in detail

    response = client.post(reverse("registry:reveal", args=["person", person.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert person.id_number in response.content.decode()
    log = AccessLog.objects.get()
    assert (log.user, log.person, log.action) == (chief, person, AccessLog.Action.REVEAL)


def test_reveal_household_bank_account(client, make_user, household):
    household.bank_account = "6228480012345678901"
    household.save()
    chief = make_user("科长", region="district")
    response = login(client, chief).post(reverse("registry:reveal", args=["household", household.pk]))
    assert "6228480012345678901" in response.content.decode()
    assert AccessLog.objects.get().household == household


def test_reveal_is_403_without_permission(client, caseworker, household):
    response = login(client, caseworker).post(reverse("registry:reveal", args=["person", household.head_id]))
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_reveal_out_of_scope_is_404(client, make_user, household):
    # A chief of another district's scope: give the user a street of the same district but another street.
    chief = make_user("科长", region="street2")
    response = login(client, chief).post(reverse("registry:reveal", args=["person", household.head_id]))
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_reveal_needs_post(client, make_user, household):
    chief = make_user("科长", region="district")
    assert (
        login(client, chief).get(reverse("registry:reveal", args=["person", household.head_id])).status_code
        == 405
    )


# ------------------------------------------------------------------------------------------------- list


def _list_queries(client, django_assert_max_num_queries, bound):
    with django_assert_max_num_queries(bound):
        response = client.get(reverse("registry:household_list"), {"sort": "-members"})
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("count", [5, 40])
def test_household_list_query_count_does_not_grow(
    client, caseworker, regions, django_assert_max_num_queries, count
):
    for _ in range(count):
        household_with_members(regions["community11"], size=2)
    household_with_members(regions["community21"], size=2)  # out of scope
    client = login(client, caseworker)
    # 11 (the living members are the household's kept column: no count of members), plus the list's reads
    # in a transaction with JIT off (core/plans.py): SAVEPOINT, SET LOCAL and RELEASE here inside the
    # test's transaction, SET LOCAL alone in production.
    response = _list_queries(client, django_assert_max_num_queries, 14)
    assert response.context["page"].paginator.count == count


def test_household_list_filters_and_paginates(client, make_user, regions):
    reviewer = make_user("街道审核员", region="street2")
    for _ in range(3):
        household_with_members(regions["community21"], size=1)
    rural = household_with_members(regions["community22"], size=1)
    client = login(client, reviewer)
    response = client.get(reverse("registry:household_list"), {"area_type": "rural"})
    assert [h.pk for h in response.context["page"]] == [rural.pk]
    response = client.get(reverse("registry:household_list"), {"community": regions["community21"].code})
    assert response.context["page"].paginator.count == 3


def test_household_list_export(client, caseworker, household):
    # one of the three members has died: the workbook counts the two living ones, under the head's name
    member = household.members.exclude(pk=household.head_id).order_by("pk").first()
    services.person_record_death(person=member, death_date=datetime.date(2026, 11, 20), actor=caseworker)
    response = login(client, caseworker).get(reverse("registry:household_list"), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    header, row = rows[0], next(r for r in rows if r[0] == household.number)
    assert (row[header.index("户主")], row[header.index("在册人数")]) == (household.head.name, 2)


# ------------------------------------------------------------------------------------------------- create


def _management(total):
    return {
        "members-TOTAL_FORMS": str(total),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "1000",
    }


def _member_fields(index, **values):
    base = {
        "name": "赵敏",
        "relation": "head",
        "id_type": "ric",
        "id_number": valid_id_number(datetime.date(1980, 1, 2), male=False),
        "birth_date": "",
        "sex": "",
        "marital_status": "unmarried",
        "self_care": "full",
        "labour_capacity": "full",
    }
    base.update(values)
    return {f"members-{index}-{k}": v for k, v in base.items()}


def test_create_form_renders_id_autofill_hooks(client, caseworker):
    html = login(client, caseworker).get(reverse("registry:household_create")).content.decode()
    for hook in ("data-person-form", "data-id-number", "data-birth-date", "data-sex", "data-id-hint"):
        assert hook in html
    assert "registry.js" in html


def test_create_household_post(client, caseworker, regions):
    data = {"region": regions["community11"].pk, "address": "春城大街8号", **_management(2)}
    data.update(_member_fields(0))
    data.update(
        _member_fields(
            1, name="赵小敏", relation="child", id_number=valid_id_number(datetime.date(2010, 1, 1))
        )
    )
    response = login(client, caseworker).post(reverse("registry:household_create"), data)
    household = Household.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:household_detail", args=[household.pk])
    assert household.members.count() == 2


def test_create_household_with_errors_rerenders_with_message_beside_field(client, caseworker, regions):
    first17 = "22010619800102002"
    wrong = first17 + ("1" if check_char(first17) != "1" else "2")
    data = {"region": regions["community11"].pk, "address": "春城大街8号", **_management(1)}
    data.update(_member_fields(0, id_number=wrong))

    response = login(client, caseworker).post(reverse("registry:household_create"), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "身份证号码校验位错误，请核对" in html
    # The message sits right after the ID input of that row (inside the same field block).
    block = html.split('name="members-0-id_number"', 1)[1].split("</div>", 1)[0]
    assert "身份证号码校验位错误" in block
    assert (
        "is-invalid"
        in html.split('name="members-0-id_number"', 1)[0].rsplit("<input", 1)[1]
        + html.split('name="members-0-id_number"', 1)[1].split(">", 1)[0]
    )
    assert Household.objects.count() == 0


def test_create_household_service_error_is_mapped_to_the_row(client, caseworker, regions, household):
    existing = household.members.order_by("pk").last()
    data = {"region": regions["community11"].pk, "address": "春城大街8号", **_management(2)}
    data.update(_member_fields(0))
    data.update(_member_fields(1, name="重复", relation="spouse", id_number=existing.id_number))
    response = login(client, caseworker).post(reverse("registry:household_create"), data)
    assert response.status_code == 400
    html = response.content.decode()
    block = html.split('name="members-1-id_number"', 1)[1].split("</div>", 1)[0]
    assert f"该人员已在家庭 {household.number} 中，请先办理迁出" in block
    assert Household.objects.count() == 1


def test_create_household_without_head_shows_formset_error(client, caseworker, regions):
    data = {"region": regions["community11"].pk, "address": "春城大街8号", **_management(1)}
    data.update(_member_fields(0, relation="spouse"))
    response = login(client, caseworker).post(reverse("registry:household_create"), data)
    assert response.status_code == 400
    assert "请指定一名户主" in response.content.decode()


def test_create_household_deleted_row_is_ignored(client, caseworker, regions):
    data = {"region": regions["community11"].pk, "address": "春城大街8号", **_management(2)}
    data.update(_member_fields(0))
    data.update(_member_fields(1, name="", id_number="bad", relation="", DELETE="on"))
    response = login(client, caseworker).post(reverse("registry:household_create"), data)
    assert response.status_code == 302
    assert Household.objects.get().members.count() == 1


def test_create_household_out_of_scope_region_is_refused(client, caseworker, regions):
    data = {"region": regions["community21"].pk, "address": "春城大街8号", **_management(1)}
    data.update(_member_fields(0))
    response = login(client, caseworker).post(reverse("registry:household_create"), data)
    assert response.status_code == 400
    assert Household.objects.count() == 0


# ------------------------------------------------------------------------------------------------- detail pages


def test_household_detail_shows_members_incomes_and_history(
    client, caseworker, household, django_assert_max_num_queries
):
    services.income_record_add(
        household=household,
        kind="wage",
        monthly_amount="900",
        period_start=datetime.date(2024, 1, 1),
        actor=caseworker,
    )
    services.income_record_add(
        household=household,
        kind="assistance",
        monthly_amount="300",
        period_start=datetime.date(2024, 1, 1),
        actor=caseworker,
    )
    services.household_update(household=household, data={"address": "新地址9号"}, actor=caseworker)
    client = login(client, caseworker)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("registry:household_detail", args=[household.pk]))
    html = response.content.decode()
    assert "户主" in html and "计入" in html and "不计入" in html
    assert "¥300.00" in html  # 900 counted ÷ 3 members
    assert "新地址9号" in html and "住址" in html  # history shows the address change


def test_deceased_member_is_shown_as_such(client, caseworker, household):
    person = household.members.exclude(pk=household.head_id).first()
    services.person_record_death(person=person, death_date=datetime.date(2024, 1, 1), actor=caseworker)
    html = (
        login(client, caseworker)
        .get(reverse("registry:household_detail", args=[household.pk]))
        .content.decode()
    )
    assert "已故" in html


def test_record_death_through_the_page(client, caseworker, household):
    person = household.members.exclude(pk=household.head_id).first()
    url = reverse("registry:person_death", args=[person.pk])
    client = login(client, caseworker)
    response = client.post(url, {"death_date": "2099-01-01"})
    assert response.status_code == 400
    assert "死亡日期不能晚于今天" in response.content.decode()
    response = client.post(url, {"death_date": "2024-05-01", "certificate_no": "A123"})
    assert response.status_code == 302
    assert LifeEvent.objects.get(person=person).kind == "death"


def test_income_add_page(client, caseworker, household):
    url = reverse("registry:income_add", args=[household.pk])
    client = login(client, caseworker)
    response = client.post(url, {"kind": "wage", "monthly_amount": "-5", "period_start": "2024-01-01"})
    assert response.status_code == 400
    response = client.post(url, {"kind": "wage", "monthly_amount": "1200", "period_start": "2024-01-01"})
    assert response.status_code == 302
    assert household.incomes.get().monthly_amount == 1200


# ------------------------------------------------------------------------------------------------- attachments


def test_attachment_upload_download_and_scope(
    client, caseworker, other_street, household, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = login(client, caseworker)
    response = client.post(
        reverse("registry:attachment_upload", args=["household", household.pk]),
        {
            "doc_type": "income_proof",
            "file": SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    download = client.get(reverse("registry:attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF

    client.force_login(other_street)
    assert client.get(reverse("registry:attachment_download", args=[attachment.pk])).status_code == 404

    client.force_login(caseworker)
    client.post(reverse("registry:attachment_remove", args=[attachment.pk]))
    assert client.get(reverse("registry:attachment_download", args=[attachment.pk])).status_code == 404


def test_attachment_upload_wrong_type_shows_error(client, caseworker, household, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = login(client, caseworker).post(
        reverse("registry:attachment_upload", args=["household", household.pk]),
        {"doc_type": "other", "file": SimpleUploadedFile("scan.pdf", b"GIF89a....")},
    )
    assert response.status_code == 400
    assert "文件内容与扩展名 .pdf 不符" in response.content.decode()


# ------------------------------------------------------------------------------------------------- admin


def test_admin_pages_load(client, regions, household):
    from tests.factories import UserFactory

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    for model in ("region", "household", "person", "incomerecord", "assetrecord", "lifeevent", "attachment"):
        assert client.get(f"/admin/registry/{model}/").status_code == 200, model
    assert client.get(f"/admin/registry/household/{household.pk}/change/").status_code == 200
    assert client.get(f"/admin/registry/household/{household.pk}/history/").status_code == 200
    assert client.get("/admin/registry/region/", {"q": "2201060010"}).status_code == 200


def test_household_page_shows_bureau_actions_the_user_may_use(client, make_user, regions):
    """Bureau apps put their buttons on the household page through core.registry.actions."""
    from tests.factories import household_with_members

    household = household_with_members(regions["community11"], size=2)
    client.force_login(make_user("社区经办人", region="community11"))
    html = client.get(f"/registry/households/{household.pk}/").content.decode()
    assert f"/assistance/dibao/new/?household={household.pk}" in html
    client.force_login(make_user("科长", region="district"))
    html = client.get(f"/registry/households/{household.pk}/").content.decode()
    assert "?household=" not in html


def test_person_page_shows_bureau_actions(client, make_user, regions):
    from tests.factories import household_with_members

    household = household_with_members(regions["community11"], size=1)
    client.force_login(make_user("社区经办人", region="community11"))
    html = client.get(f"/registry/persons/{household.head.pk}/").content.decode()
    assert f"?person={household.head.pk}" in html
