"""Case pages: scope (404), permission (403), transitions through the page, bounded queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.accounts.navigation import navigation_for
from core.workflow.calendar import missing_calendar_years
from core.workflow.models import Case, PublicNotice
from core.workflow.services import case_create, case_transition
from tests.factories import household_with_members


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "reviewer2": make_user("街道审核员", region="street2"),
        "chief": make_user("科长", region="district"),
        "chief2": make_user("科长", region="district"),
        "admin": make_user("系统管理员", region="district"),
        "district_clerk": make_user("社区经办人", region="district"),
    }


@pytest.fixture
def make_cases(people, regions):
    def _make(n, region="community11"):
        household = household_with_members(regions[region], size=1)
        actor = people["clerk"] if region == "community11" else people["district_clerk"]
        return [
            case_create(
                case_type="generic", applicant_household=household, region=regions[region], actor=actor
            )
            for _ in range(n)
        ]

    return _make


def _url(name, *args):
    return reverse(f"workflow:{name}", args=args)


def test_anonymous_is_sent_to_login(client, make_cases):
    (case,) = make_cases(1)
    for url in (_url("case_list"), _url("todo"), _url("case_detail", case.pk), _url("notice_list")):
        response = client.get(url)
        assert response.status_code == 302, url


def test_without_view_case_permission_is_403(client, people, make_cases):
    (case,) = make_cases(1)
    client.force_login(people["admin"])
    for url in (_url("case_list"), _url("todo"), _url("case_detail", case.pk)):
        assert client.get(url).status_code == 403, url
    assert client.post(_url("case_transition", case.pk), {"name": "submit"}).status_code == 403


def test_out_of_scope_case_is_404(client, people, make_cases):
    (case,) = make_cases(1)
    client.force_login(people["reviewer2"])
    assert client.get(_url("case_detail", case.pk)).status_code == 404
    assert client.post(_url("case_transition", case.pk), {"name": "submit"}).status_code == 404
    assert client.get(_url("case_detail", 999999)).status_code == 404
    case.refresh_from_db()
    assert case.status == "draft"


def test_detail_shows_header_timeline_and_allowed_buttons(client, people, make_cases):
    (case,) = make_cases(1)
    case_transition(case=case, name="submit", actor=people["clerk"], comment="材料齐全")
    client.force_login(people["reviewer"])
    response = client.get(_url("case_detail", case.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html and case.applicant_name in html
    assert "材料齐全" in html and "录入中 → 街道审核" in html
    assert 'value="review"' in html and 'value="send_back"' in html
    assert 'value="approve"' not in html  # not the reviewer's permission: no button at all


def test_transition_through_the_page(client, people, make_cases):
    (case,) = make_cases(1)
    client.force_login(people["clerk"])
    response = client.post(
        _url("case_transition", case.pk), {"name": "submit", "comment": "请审核"}, follow=True
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == "street_review"
    assert "街道审核" in response.content.decode()
    assert case.transitions.last().comment == "请审核"


def test_refused_transition_shows_the_reason_and_changes_nothing(client, people, make_cases):
    (case,) = make_cases(1)
    case_transition(case=case, name="submit", actor=people["clerk"])
    case_transition(case=case, name="review", actor=people["chief"])
    client.force_login(people["chief"])
    page = client.get(_url("case_detail", case.pk)).content.decode()
    assert "按审批分离要求不能审批" in page  # disabled button with its reason
    response = client.post(_url("case_transition", case.pk), {"name": "approve"}, follow=True)
    assert "按审批分离要求不能审批" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "chief_approval"

    client.force_login(people["chief2"])
    client.post(_url("case_transition", case.pk), {"name": "approve", "comment": "同意"})
    case.refresh_from_db()
    assert case.status == "approved"


def test_transition_requires_post(client, people, make_cases):
    (case,) = make_cases(1)
    client.force_login(people["clerk"])
    assert client.get(_url("case_transition", case.pk)).status_code == 405


@pytest.mark.parametrize("n", [3, 30])
def test_case_list_queries_do_not_grow(client, people, make_cases, django_assert_max_num_queries, n):
    cases = make_cases(n)
    Case.objects.filter(pk=cases[0].pk).update(due_date=timezone.localdate() - datetime.timedelta(days=2))
    client.force_login(people["chief"])
    with django_assert_max_num_queries(12):
        response = client.get(_url("case_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-case="') == n
    assert f'class="table-danger" data-case="{cases[0].number}"' in html
    with django_assert_max_num_queries(12):
        assert client.get(_url("todo")).status_code == 200


def test_case_list_search_filters_and_pagination(client, people, make_cases):
    cases = make_cases(55)
    other = make_cases(1, region="community21")[0]
    client.force_login(people["reviewer"])  # street 1: not community 21
    html = client.get(_url("case_list")).content.decode()
    assert html.count('data-case="') == 50 and "共 55 条" in html
    assert other.number not in html
    assert client.get(_url("case_list"), {"page": 2}).content.decode().count('data-case="') == 5

    html = client.get(_url("case_list"), {"q": cases[7].number}).content.decode()
    assert html.count('data-case="') == 1
    html = client.get(_url("case_list"), {"status": "street_review"}).content.decode()
    assert html.count('data-case="') == 0
    html = client.get(_url("case_list"), {"sort": "number"}).content.decode()
    assert html.index(cases[0].number) < html.index(cases[1].number)
    html = client.get(_url("case_list"), {"overdue": "1"}).content.decode()
    assert "没有符合条件的案件" in html


def test_case_list_export(client, people, make_cases):
    make_cases(2)
    client.force_login(people["chief"])
    response = client.get(_url("case_list"), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK"


def test_todo_page_counts(client, people, make_cases):
    cases = make_cases(3)
    for case in cases:
        case_transition(case=case, name="submit", actor=people["clerk"])
    Case.objects.filter(pk=cases[1].pk).update(due_date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(people["reviewer"])
    html = client.get(_url("todo")).content.decode()
    assert 'data-testid="todo-total">3<' in html
    assert 'data-testid="todo-overdue">1<' in html
    assert html.count("table-danger") == 1


def test_notice_shorter_than_seven_days_is_refused_on_the_page(client, people, make_cases):
    (case,) = make_cases(1)
    client.force_login(people["clerk"])
    today = timezone.localdate()
    data = {"start_date": today.isoformat(), "days": 6, "place": "社区公示栏"}
    response = client.post(_url("notice_open", case.pk), data, follow=True)
    assert "公示期不得少于7天" in response.content.decode()
    # A backdated start is refused, naming the earliest date allowed.
    backdated = {**data, "start_date": "2020-09-24", "days": 7}
    response = client.post(_url("notice_open", case.pk), backdated, follow=True)
    assert f"公示开始日期不能早于{today.year}年{today.month}月{today.day}日" in response.content.decode()
    assert not PublicNotice.objects.exists()

    data["days"] = 7
    response = client.post(_url("notice_open", case.pk), data, follow=True)
    end = today + datetime.timedelta(days=6)  # 7 days posted, the first included
    assert f"公示期至{end.year}年{end.month}月{end.day}日" in response.content.decode()
    notice = PublicNotice.objects.get()
    client.post(_url("notice_object", notice.pk), {"objection": "有车辆未申报"})
    client.post(_url("notice_close", notice.pk))
    notice.refresh_from_db()
    assert notice.status == PublicNotice.Status.OBJECTED and notice.closed_at is not None
    assert "有车辆未申报" in client.get(_url("case_detail", case.pk)).content.decode()


def test_notice_list_is_scoped(client, people, make_cases):
    from core.workflow.services import notice_open

    (case,) = make_cases(1)
    notice_open(case=case, start_date=timezone.localdate(), days=7, place="社区公示栏", actor=people["clerk"])
    client.force_login(people["reviewer"])
    assert case.applicant_name in client.get(_url("notice_list")).content.decode()
    client.force_login(people["reviewer2"])
    assert case.applicant_name not in client.get(_url("notice_list")).content.decode()


def test_navigation_entries(people):
    sections = {s.key: [i.label for i in s.items] for s in navigation_for(people["clerk"])}
    assert sections["workbench"][:2] == ["待办事项", "案件查询"]
    assert "workbench" not in {s.key for s in navigation_for(people["admin"])}


def test_admin_pages(client, make_user, make_cases):
    (case,) = make_cases(1)
    admin = make_user(region=None, is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.get("/admin/workflow/calendarday/", {"year": "2025", "date__month": "10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "国庆节" in html and "须在此录入次年全年日期" in html
    missing = missing_calendar_years(timezone.localdate())
    assert ("尚未录入" in html) == bool(missing)
    for url in (
        "/admin/workflow/case/",
        f"/admin/workflow/case/{case.pk}/change/",
        "/admin/workflow/transitionlog/",
        "/admin/workflow/publicnotice/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/workflow/transitionlog/add/").status_code == 403
    log = case.transitions.get()
    assert client.post(f"/admin/workflow/transitionlog/{log.pk}/delete/", {"post": "yes"}).status_code == 403


def test_notice_list_offers_registered_links(client, make_user):
    """reports registers the PDF on the 公示名单 page through core.workflow.links (core imports no report)."""
    client.force_login(make_user("社区经办人", region="community11"))
    html = client.get("/workflow/notices/").content.decode()
    assert "/reports/notices.pdf" in html
