"""Issue 14 item 6, the web as used at city scale: the pages made fast keep their answers and their query
counts — 家庭档案 (ids from the scope's index, then the page's rows), 人员查询 by one character (the name
character index on PostgreSQL), the 两项补贴 monthly comparison (StopRows, the disabled index), the
dashboard (the spending panel's month-only read) — without timing anything (benchmarks/bench_pages.py does)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assistance.disability.selectors import monthly_comparison
from assistance.reports import spending_figures
from core.accounts.models import Role, User
from core.benefits.models import BenefitType, Entitlement
from core.benefits.services import payment_run_recalculate
from core.registry.models import Household, Person, Region
from core.registry.selectors import household_list, people_search

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the name character index is PostgreSQL's (set DATABASE_URL)"
)
MONTH = datetime.date(2026, 12, 1)
CHARS = ["王", "李", "伟", "芳", "覃"]


def city(first_district: int, people: int) -> None:
    call_command(
        "generate_city",
        people=people,
        first_district=first_district,
        districts=1,
        seed=first_district,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )


def chief(code: str) -> User:
    user = User.objects.create_user(username=f"u{code}", password="x", region=Region.objects.get(code=code))
    user.groups.add(Group.objects.get(name=Role.SECTION_CHIEF))
    return user


def count_queries(client, url: str) -> int:
    cache.clear()  # the dashboard uncached: its panels computed, not read from the cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def kill_one_subsidy_recipient(prefix: str) -> None:
    """A recipient of 生活补贴 dead, so that the comparison's 应退尽退 list has a line to show."""
    person_id = (
        Entitlement.objects.filter(region_code__startswith=prefix, benefit_type__code="disability_living")
        .order_by("pk")
        .values_list("person_id", flat=True)
        .first()
    )
    Person.objects.filter(pk=person_id).update(death_date=datetime.date(2026, 11, 3))


# ---------------------------------------------------------------------------------------- query counts


def test_item6_pages_query_counts_do_not_grow_with_rows(client):
    # Given: a small city, one dead subsidy recipient, and its city-level 科长
    city(50, 300)
    kill_one_subsidy_recipient("220150")
    client.force_login(chief("220100000000"))
    comparison = reverse("assistance:disability_comparison")
    households = reverse("registry:household_list")
    search = reverse("registry:search")
    pages = {
        "dashboard uncached": reverse("dashboard"),
        "case list": reverse("workflow:case_list"),
        "household list": households,
        "household list, page 2": households + "?page=2",
        "household list, by head": households + "?sort=head",
        "household list, by members": households + "?sort=-members&page=2",
        "household list, q": households + "?q=王",
        "search by one character": search + "?q=王",
        "search by two characters": search + "?q=王伟",
        **{f"comparison {x}": f"{comparison}?list={x}" for x in ("stop", "living", "care")},
    }
    client.get(reverse("dashboard"))  # session, permissions and calendar caches warm
    before = {name: count_queries(client, url) for name, url in pages.items()}
    # When: ten times as many rows come into scope
    city(51, 3000)
    kill_one_subsidy_recipient("220151")
    after = {name: count_queries(client, url) for name, url in pages.items()}
    # Then: the same number of queries on every page
    assert after == before


# ---------------------------------------------------------------------------------------- answers


def test_name_search_finds_what_a_plain_contains_finds_in_scope():
    # Given: two districts, a user of the first
    city(50, 1500)
    city(51, 1500)
    user = chief("220150000000")
    names = (
        Person.objects.filter(region_code__startswith="220150").order_by("pk").values_list("name", flat=True)
    )
    fragments = [names[7][-2:], names[11][:2]]  # two characters, as found in real names
    for query in CHARS + fragments:
        # When: the search by part of a name
        found = people_search(user, query, limit=50).persons
        # Then: exactly the first 50 names (by name, id) holding the query among the district's people
        expected = list(
            Person.objects.filter(region_code__startswith="220150", name__contains=query)
            .order_by("name", "pk")
            .values_list("pk", flat=True)[:50]
        )
        assert expected, query
        assert [p.pk for p in found] == expected, query
        assert all(p.region_code.startswith("220150") for p in found)


def test_name_search_inside_a_name_and_out_of_scope():
    city(50, 200)
    city(51, 200)
    user = chief("220150000000")
    mine = Person.objects.filter(region_code__startswith="220150").order_by("pk")
    theirs = Person.objects.filter(region_code__startswith="220151").order_by("pk")
    Person.objects.filter(pk=mine[0].pk).update(name="欧阳翯")
    Person.objects.filter(pk=mine[1].pk).update(name="翯然")
    Person.objects.filter(pk=theirs[0].pk).update(name="翯翯")
    # One character, at the start, inside and at the end of a name; never a person of another district.
    assert {p.pk for p in people_search(user, "翯").persons} == {mine[0].pk, mine[1].pk}
    assert [p.pk for p in people_search(user, "阳翯").persons] == [mine[0].pk]
    assert people_search(user, "翯阳").persons == []
    # The 家庭档案 search by the head's name: the same rule, the same scope.
    head_of = Household.objects.filter(head_id=mine[1].pk).values_list("pk", flat=True)
    listed = set(household_list(user, q="翯", member_counts=False).values_list("pk", flat=True))
    assert set(head_of) <= listed
    assert not listed & set(
        Household.objects.filter(region_code__startswith="220151").values_list("pk", flat=True)
    )


@postgresql_only
def test_name_search_uses_the_character_index():
    city(50, 2000)
    user = chief("220150000000")
    with CaptureQueriesContext(connection) as ctx:
        people_search(user, "王")
    (sql,) = [q["sql"] for q in ctx.captured_queries if "registry_person" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert "person_name_chars_idx" in plan, plan


@pytest.mark.parametrize("sort", ["number", "-number", "head", "-members", "created"])
def test_household_list_pages_show_what_the_grouped_query_showed(client, sort):
    # Given: a district of ~400 households, a few inactive, and its 科长
    city(50, 1000)
    Household.objects.filter(pk__in=Household.objects.order_by("pk").values("pk")[:7]).update(is_active=False)
    # some members dead, some moved to another household (the kept counts follow: registry 0107)
    people = list(
        Person.objects.filter(region_code__startswith="220150").order_by("pk").values_list("pk", flat=True)
    )
    Person.objects.filter(pk__in=people[10:200:3]).update(death_date=datetime.date(2026, 10, 1))
    Person.objects.filter(pk__in=people[300:400:4]).update(household=Household.objects.order_by("-pk")[0])
    user = chief("220150000000")
    client.force_login(user)
    # The former query: every household with its living member count, in one grouped query.
    order = {"number": "number", "head": "head__name", "members": "member_count", "created": "created_at"}
    key = order[sort.lstrip("-")]
    former = (
        Household.objects.filter(region_code__startswith="220150", is_active=True)
        .annotate(member_count=Count("members", filter=Q(members__death_date__isnull=True)))
        .order_by(f"-{key}" if sort.startswith("-") else key, "pk")
        .values_list("pk", "member_count")
    )
    former = list(former)
    for number in (1, 3, 99):
        response = client.get(reverse("registry:household_list"), {"sort": sort, "page": number})
        page = response.context["page"]
        # Then: the same count, the same rows in the same order, the same member counts
        assert page.paginator.count == len(former)
        start = (page.number - 1) * 50
        assert [(h.pk, h.living_members) for h in page] == former[start : start + 50]


def test_spending_panel_month_figures_are_the_full_figures_of_the_month():
    city(50, 1500)
    user = chief("220150000000")
    codes = ["dibao", "disability_living", "disability_care"]
    for code in codes:
        payment_run_recalculate(benefit_type=BenefitType.objects.get(code=code), month=MONTH)
    full = spending_figures(user, codes, MONTH, by_code=True)
    month_only = spending_figures(user, codes, MONTH, by_code=True, year=False)
    assert month_only
    for area, values in full.items():
        assert month_only[area] == {k: v for k, v in values.items() if "_m_" in k}
    assert any(v for values in month_only.values() for v in values.values())


# ---------------------------------------------------------------------------------------- 两项补贴 comparison


def _comparison_variety(prefix: str) -> None:
    """What the month's comparison must find, in the generated district: dead recipients, a cancelled
    certificate, a grade no longer 1–2, households off 低保 (their members' 生活补贴 to stop, their certified
    people no longer eligible), subsidies ended (their people to add), a living subsidy starting later."""
    subsidies = Entitlement.objects.filter(
        region_code__startswith=prefix, benefit_type__code__in=["disability_living", "disability_care"]
    ).order_by("pk")
    living = list(
        subsidies.filter(benefit_type__code="disability_living").values_list("pk", "person_id")[:40]
    )
    care = list(subsidies.filter(benefit_type__code="disability_care").values_list("pk", "person_id")[:40])
    Person.objects.filter(pk__in=[living[0][1], care[0][1]]).update(death_date=datetime.date(2026, 11, 3))
    Person.objects.filter(pk=living[1][1]).update(disability_cert_no="")
    Person.objects.filter(pk=care[1][1]).update(disability_grade=3)
    off = Person.objects.filter(pk__in=[living[2][1], living[3][1]]).values_list("household_id", flat=True)
    Entitlement.objects.filter(benefit_type__code="dibao", household_id__in=list(off)).update(
        end_month=datetime.date(2026, 10, 1)
    )
    ended = [pk for pk, _ in living[4:12]] + [pk for pk, _ in care[4:12]]
    Entitlement.objects.filter(pk__in=ended).update(end_month=datetime.date(2026, 10, 1), status="ended")
    Entitlement.objects.filter(pk=living[12][0]).update(start_month=datetime.date(2027, 2, 1))


def _old_comparison(user, month):
    from assistance.disability import selectors

    stop = list(selectors.comparison_stop_list(user, month))
    add = {
        s: [
            (p.pk, p.open_case_id, p.household.number, p.household.region.name)
            for p in selectors.comparison_add_list(user, month, s)
        ]
        for s in ("living", "care")
    }
    return stop, add, selectors.comparison_coverage(user, month)


def test_monthly_comparison_gives_what_the_querysets_gave():
    from assistance.disability.selectors import monthly_comparison

    # Given: two districts with the variety a month brings, and users of a district, a street, the city
    city(50, 2500)
    city(51, 1500)
    _comparison_variety("220150")
    _comparison_variety("220151")
    street = Region.objects.filter(code__startswith="220150", level=4).order_by("code").first()
    users = [chief("220150000000"), chief("220100000000"), chief(street.code)]
    for user in users:
        for month in (MONTH, datetime.date(2026, 11, 1), datetime.date(2027, 2, 1)):
            # When: the page's computation and the former querysets
            new = monthly_comparison(user, month)
            stop, add, coverage = _old_comparison(user, month)
            # Then: the same lines in the same order, the same reasons, the same coverage
            assert list(new.stop) == stop
            for subsidy, rows in add.items():
                shown = [
                    (p.pk, p.open_case_id, p.household.number, p.household.region.name)
                    for p in new.add[subsidy]
                ]
                assert shown == rows, (user.username, month, subsidy)
            assert new.coverage == coverage
            assert new.counts == {"stop": len(stop), "living": len(add["living"]), "care": len(add["care"])}
    # The variety shows: something to stop for every reason, someone to add for each subsidy
    new = monthly_comparison(users[0], MONTH)
    assert {r for row in new.stop for r in row.reasons} == {"death", "cert", "grade", "dibao"}
    assert len(new.add["living"]) and len(new.add["care"])
    assert new.add["living"][3:5] == list(new.add["living"])[3:5]  # a page's slice is the list's


# ---------------------------------------------------------------------------------------- spending summaries


def test_spending_from_run_summaries_equals_spending_from_lines():
    from assistance.reports import spending_figures_from_lines
    from core.benefits.models import PaymentRun, PaymentRunSummary
    from core.benefits.services import payment_run_start_parts

    # Given: two districts and three months of the five types calculated (each run summarized when stamped)
    city(50, 1500)
    city(51, 800)
    codes = ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]
    for month in (datetime.date(2026, 10, 1), datetime.date(2026, 11, 1), MONTH):
        for code in codes:
            payment_run_recalculate(benefit_type=BenefitType.objects.get(code=code), month=month)
    assert PaymentRun.objects.filter(summary_of__isnull=False).count() == 15
    # A recalculation after a change rewrites the summary with the lines
    ended = Entitlement.objects.filter(benefit_type__code="dibao", region_code__startswith="220150")
    Entitlement.objects.filter(pk__in=list(ended.order_by("pk").values_list("pk", flat=True)[:3])).update(
        end_month=datetime.date(2026, 10, 1)
    )
    payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=MONTH)
    # One run being calculated street by street: its summary no longer holds it, its lines are read
    payment_run_start_parts(benefit_type=BenefitType.objects.get(code="tekun_care"), month=MONTH)
    street = Region.objects.filter(code__startswith="220150", level=4).order_by("code").first()
    community = Region.objects.filter(code__startswith="220151", level=5).order_by("code").last()
    admin = User.objects.create_superuser(username="root", password="x")
    users = [chief("220150000000"), chief("220100000000"), chief(street.code), chief(community.code), admin]
    for user in users:
        for by_code in (True, False):
            for year in (True, False):
                # When: the figures from the summaries and from the lines
                summarized = spending_figures(user, codes, MONTH, by_code=by_code, year=year)
                lines = spending_figures_from_lines(user, codes, MONTH, by_code=by_code, year=year)
                # Then: the same figures for every area, item and period
                assert summarized == lines, (user.username, by_code, year)
    assert any(v for v in spending_figures(users[0], codes, MONTH).get("", {}).values()) or any(
        v for values in spending_figures(users[0], codes, MONTH).values() for v in values.values()
    )
    # Summaries are per community: a district's figures read about a hundred rows, not its lines
    assert PaymentRunSummary.objects.count() < 15 * 2 * 2 * 100


def test_spending_panel_queries_do_not_grow_with_lines(client):
    codes = ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]

    def count() -> int:
        for code in codes:
            payment_run_recalculate(benefit_type=BenefitType.objects.get(code=code), month=MONTH)
        with CaptureQueriesContext(connection) as ctx:
            spending_figures(user, codes, MONTH, by_code=True)
        return len(ctx.captured_queries)

    city(50, 300)
    user = chief("220100000000")
    small = count()
    city(51, 3000)
    assert count() == small


def test_comparison_is_kept_for_the_scope_until_an_entitlement_or_person_changes(client):
    # Given: a district with one dead subsidy recipient (the 应停发 list holds that subsidy), its 科长
    city(50, 300)
    kill_one_subsidy_recipient("220150")
    client.force_login(chief("220150000000"))
    url = reverse("assistance:disability_comparison") + "?list=stop"

    def visit(suffix: str = "") -> tuple[int, int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url + suffix)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.context["counts"]["stop"], response.content.decode()

    made, stop, page = visit()
    assert stop >= 1 and "比对时间" in page and "重新比对" in page
    # When the page is asked again: the comparison kept for the scope is shown, its queries not run again
    kept, again, _ = visit()
    assert again == stop and kept < made
    # When the 科长 stops a listed subsidy (a save): the next page compares again, without it
    listed = list(monthly_comparison(User.objects.get(username="u220150000000"), MONTH).stop)[0].entitlement
    stopped = client.post(
        reverse("assistance:disability_stop", args=[listed.pk]),
        {"reason": "测试：已死亡", "list": "stop", "month": f"{MONTH:%Y-%m}"},
    )
    assert stopped.status_code == 302
    remade, after, _ = visit()
    assert remade > kept and after == stop - 1  # (the page also shows the stop's message)
    # 重新比对 makes it again on request
    assert visit("&refresh=1")[0] == made
