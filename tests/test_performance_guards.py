"""Guards that keep the city-scale performance (benchmarks/) from regressing — without timing anything.

- EXPLAIN (PostgreSQL): person search by ID number and the region-prefix scope filter use indexes;
- query counts on the hot pages and on the recalculation do not grow with the number of rows."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.accounts.models import Role, User
from core.benefits.models import BenefitType, Entitlement
from core.benefits.services import payment_run_recalculate
from core.registry.models import Household, Person, Region
from core.registry.selectors import household_list, people_search

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's (set DATABASE_URL)"
)
MONTH = datetime.date(2026, 12, 1)


def city(first_district: int, people: int, districts: int = 1) -> None:
    call_command(
        "generate_city",
        people=people,
        first_district=first_district,
        districts=districts,
        seed=first_district,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )


def city_user(code: str = "220100000000") -> User:
    user = User.objects.create_user(username=f"u{code}", password="x", region=Region.objects.get(code=code))
    user.groups.add(Group.objects.get(name=Role.SECTION_CHIEF))
    return user


def plans(queries) -> list[str]:
    """EXPLAIN of every captured query that reads the person table."""
    result = []
    with connection.cursor() as cursor:
        for query in queries:
            if "registry_person" in query["sql"] and query["sql"].lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN " + query["sql"])
                result.append("\n".join(row[0] for row in cursor.fetchall()))
    return result


# --------------------------------------------------------------------------------------- EXPLAIN checks


@postgresql_only
def test_person_search_by_id_number_uses_an_index():
    # Given: a few thousand people, analysed, and a district user
    city(50, 4000, districts=4)
    user = city_user("220150000000")
    person = Person.objects.filter(region_code__startswith="220150").order_by("id")[123]
    # When: the search runs
    with CaptureQueriesContext(connection) as ctx:
        result = people_search(user, person.id_number)
    # Then: found, and no query on the person table scans it
    assert [p.pk for p in result.persons] == [person.pk]
    explained = plans(ctx.captured_queries)
    assert explained, "the search did not query the person table"
    for plan in explained:
        assert "Seq Scan on registry_person" not in plan, plan


@postgresql_only
@pytest.mark.parametrize("model", [Person, Household, Entitlement])
def test_region_prefix_filter_can_use_its_pattern_index(model):
    """`region_code LIKE 'prefix%'` is served by the varchar_pattern_ops index (a plain B-tree would not
    serve LIKE under a non-C collation). With sequential scans priced out, a missing or unusable index
    shows as a Seq Scan whatever the table size — so this does not depend on the planner's estimates."""
    city(50, 4000, districts=4)
    queryset = model.objects.visible_to(city_user("220151000000")).only("id").order_by()
    with connection.cursor() as cursor:
        # Statistics of this table's rows, not of an earlier test's (an ANALYZE elsewhere, e.g. the
        # set-based 低保 freeze, leaves row counts behind that rollbacks do not undo): with stale ones the
        # planner walked the primary key and filtered.
        cursor.execute(f"ANALYZE {model._meta.db_table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            plan = queryset.explain()
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")
    assert "Seq Scan" not in plan, plan
    # The prefix as a range of the pattern-ops column: the region's own index, or (Entitlement) the
    # (benefit type, region) one — on the test's few rows the planner may cost both alike and take either.
    assert re.search(r"Index Cond: .*region_code\)::text ~>=~ '220151'", plan), plan
    assert "region_prefix_idx" in plan or model is Entitlement, plan


@postgresql_only
def test_household_list_prefix_filter_uses_an_index_at_scale():
    """The district page on a larger city: the planner itself picks the prefix index (one district of
    ten is ~10 % of the rows; on a million people this is what keeps the list under 150 ms)."""
    city(50, 8000, districts=10)
    plan = household_list(city_user("220153000000")).explain()
    assert "Seq Scan on registry_household" not in plan, plan


# ---------------------------------------------------------------------------------------- query counts


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@postgresql_only
def test_a_street_part_finds_its_own_lines_through_the_run_entitlement_index():
    """A by-street part's lines in the draft run (services.PART_LINE_IDS, which its DELETE and the probe of
    referencing rows then take by id) with the statistics a production database has while the run fills:
    analysed when the draft run held no line (its id estimated at ~1 line), then the earlier parts' lines
    committed. It must be served by the (run, entitlement, …) unique index with both conditions — not by
    (run, region_code) with the entitlements as a filter (every line the earlier parts wrote, read again by
    each part), nor by (entitlement, for_month) (every locked month's lines of the part's entitlements)."""
    from core.benefits.models import PaymentLine, PaymentRun
    from core.benefits.services import PART_LINE_IDS

    dibao = BenefitType.objects.get(code="dibao")
    locked = [
        PaymentRun.objects.create(
            benefit_type=dibao,
            month=datetime.date(2025, month, 1),
            kind=PaymentRun.Kind.MONTHLY,
            status=PaymentRun.Status.LOCKED,
        ).pk
        for month in range(1, 13)
    ]
    draft = PaymentRun.objects.create(benefit_type=dibao, month=datetime.date(2026, 1, 1)).pk
    table = PaymentLine._meta.db_table
    insert = (
        f"INSERT INTO {table} (run_id, entitlement_id, region_code, line_type, for_month, covered_persons,"  # noqa: S608
        " base_amount, increment_amount, other_amount, amount, change, explanation)"
        " SELECT r.id, e, '220102001001', 'regular', r.month, 1, 0, 0, 0, 100, '', '{}'"
        " FROM benefits_paymentrun r, generate_series(%s, %s) e WHERE r.id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        # Twelve locked months of 20,000 entitlements' lines (no entitlement rows: the foreign keys are
        # deferred, and the lines deleted before the end), the draft run empty when analysed.
        cursor.execute(insert, [1, 20000, locked])
        cursor.execute(f"ANALYZE {table}")  # noqa: S608
        cursor.execute(insert, [1, 15000, [draft]])  # the parts before this one, committed since
        part = list(range(15001, 17001)) + [3, 14999]  # two of whose lines are in the run already
        cursor.execute("EXPLAIN " + PART_LINE_IDS.format(table=table), [part, draft])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(PART_LINE_IDS.format(table=table), [part, draft])
        found = sorted(pk for (pk,) in cursor.fetchall())
        expected = sorted(
            PaymentLine.objects.filter(run_id=draft, entitlement_id__in=part).values_list("pk", flat=True)
        )
        # Gone again before the test's end, which checks the deferred foreign keys of the rows still there.
        cursor.execute(f"DELETE FROM {table} WHERE run_id = ANY(%s)", [[*locked, draft]])  # noqa: S608
    assert found == expected
    assert len(found) == 2
    assert "Nested Loop" in plan, plan
    index_scan = plan.split("one_line_per_entitlement_month", 1)[1].split("\n", 2)[1]
    assert "run_id = $" in index_scan and "entitlement_id = part.entitlement_id" in index_scan, plan
    assert "paymentline_run_region_cover" not in plan, plan
    assert "paymentline_ent_month_idx" not in plan, plan


def test_hot_pages_query_counts_do_not_grow_with_rows(client):
    # Given: a small city and a city-level user
    city(50, 150)
    user = city_user()
    client.force_login(user)
    pages = {
        "dashboard": reverse("dashboard"),
        "case list": reverse("workflow:case_list"),
        "household list": reverse("registry:household_list"),
        "search": reverse("registry:search") + "?q=" + Person.objects.order_by("id").first().id_number,
        "search by name": reverse("registry:search") + "?q=王",
    }
    client.get(reverse("dashboard"))  # session, permissions and calendar caches warm
    before = {name: count_queries(client, url) for name, url in pages.items()}
    # When: ten times as many rows come into scope
    city(51, 1500)
    after = {name: count_queries(client, url) for name, url in pages.items()}
    # Then: the same number of queries on every page
    assert after == before


def test_household_page_query_count_does_not_grow_with_members(client):
    city(50, 600)
    client.force_login(city_user())
    # Households with income records both (a history query runs only when there are incomes to show).
    sizes = (
        Household.objects.filter(incomes__isnull=False)
        .annotate(n=Count("members", distinct=True))
        .order_by("n", "id")
        .values_list("id", "n")
    )
    smallest, largest = sizes.first(), sizes.last()
    assert largest[1] >= smallest[1] + 3
    url = "registry:household_detail"
    client.get(reverse(url, args=[smallest[0]]))
    small = count_queries(client, reverse(url, args=[smallest[0]]))
    large = count_queries(client, reverse(url, args=[largest[0]]))
    assert large == small


@pytest.mark.parametrize("code", ["dibao", "disability_care"])
def test_recalculation_query_count_does_not_grow_with_entitlements(code):
    benefit_type = BenefitType.objects.get(code=code)
    city(50, 400)
    payment_run_recalculate(benefit_type=benefit_type, month=MONTH)
    with CaptureQueriesContext(connection) as ctx:
        payment_run_recalculate(benefit_type=benefit_type, month=MONTH)
    small = len(ctx.captured_queries)
    city(51, 4000)
    payment_run_recalculate(benefit_type=benefit_type, month=MONTH)
    with CaptureQueriesContext(connection) as ctx:
        run = payment_run_recalculate(benefit_type=benefit_type, month=MONTH)
    assert run.line_count > 0
    assert len(ctx.captured_queries) == small, [q["sql"][:120] for q in ctx.captured_queries]


@pytest.mark.parametrize("code", ["dibao", "disability_care"])
def test_steady_state_recalculation_query_count_does_not_grow_with_entitlements(code):
    """Steady state (issue 14): three locked months before the month, then deaths recorded after they were
    locked and the type's standards raised two months back; the month's recalculation writes 补发/扣回 —
    with as many queries for a city ten times the size (each city in a savepoint rolled back after)."""
    from django.db import transaction
    from django.utils import timezone

    from core.benefits.models import PaymentLine, PaymentRun, Standard
    from core.benefits.months import add_months

    benefit_type = BenefitType.objects.get(code=code)
    counts = []
    for first_district, people in ((52, 400), (53, 4000)):
        savepoint = transaction.savepoint()
        city(first_district, people)
        for months_back in (3, 2, 1):
            run = payment_run_recalculate(benefit_type=benefit_type, month=add_months(MONTH, -months_back))
            PaymentRun.objects.filter(pk=run.pk).update(
                status=PaymentRun.Status.LOCKED, locked_at=run.calculated_at
            )
        # After the locks: a death in one household of 20 (a person entitlement ends with it), and a 提标.
        dead = list(
            Person.objects.filter(
                Q(household__entitlements__benefit_type=benefit_type)
                | Q(entitlements__benefit_type=benefit_type)
            )
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        )[::20]
        Person.objects.filter(pk__in=dead).update(death_date=add_months(MONTH, -3), updated_at=timezone.now())
        Entitlement.objects.filter(benefit_type=benefit_type, person_id__in=dead).update(
            end_month=add_months(MONTH, -3), status=Entitlement.Status.ENDED
        )
        # And one ended with last month in either city, so both write a 停发 line (it reads the stopped).
        Entitlement.objects.filter(
            pk__in=Entitlement.objects.filter(benefit_type=benefit_type, end_month__isnull=True).order_by(
                "pk"
            )[:1]
        ).update(end_month=add_months(MONTH, -1), status=Entitlement.Status.ENDED)
        raised_from = add_months(MONTH, -2)
        for standard in Standard.objects.filter(benefit_type=benefit_type, effective_to__isnull=True):
            Standard.objects.filter(pk=standard.pk).update(
                effective_to=raised_from - datetime.timedelta(days=1), changed_from=raised_from
            )
            standard.pk, standard.amount, standard.effective_from = None, standard.amount + 10, raised_from
            standard._state.adding = True
            standard.save()
        payment_run_recalculate(benefit_type=benefit_type, month=MONTH)
        with CaptureQueriesContext(connection) as ctx:
            run = payment_run_recalculate(benefit_type=benefit_type, month=MONTH)
        assert PaymentLine.objects.filter(run=run).exclude(line_type="regular").exists()
        counts.append([q["sql"][:120] for q in ctx.captured_queries])
        transaction.savepoint_rollback(savepoint)
    import difflib

    assert len(counts[0]) == len(counts[1]), "\n".join(
        difflib.unified_diff(counts[0], counts[1], lineterm="")
    )
