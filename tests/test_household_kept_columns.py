"""Household.living_members and Household.head_name: kept by the database (core/registry/household_kept.py).

Whatever writes a person or a household — the registry services, a bulk insert, a queryset update, raw SQL,
two clerks at once — the kept count equals the members counted and the kept name is the head's; a save of
the household never puts back stale values."""

import datetime
import io
import sqlite3

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core.registry import household_kept, services
from core.registry.choices import Relation
from core.registry.models import Household, Person
from tests.concurrency import race_two
from tests.factories import PersonFactory, household_with_members, valid_id_number

pytestmark = pytest.mark.django_db

CASEWORKER = "社区经办人"


def kept(household: Household) -> int:
    return Household.objects.values_list("living_members", flat=True).get(pk=household.pk)


def head_name(household: Household) -> str:
    return Household.objects.values_list("head_name", flat=True).get(pk=household.pk)


def member(relation=Relation.CHILD, born=datetime.date(2001, 3, 4), **overrides):
    return {
        "name": "李四",
        "id_type": "ric",
        "id_number": valid_id_number(born, male=True),
        "relation": relation,
        **overrides,
    }


def test_the_registry_services_move_the_count(make_user, regions):
    actor = make_user("街道审核员", region="street1")
    # Given: a household registered with three members (the service's own path)
    household = services.household_register(
        region=regions["community11"],
        address="长春市绿园区春城大街1号",
        members=[
            member(Relation.HEAD, datetime.date(1970, 1, 2)),
            member(Relation.SPOUSE, datetime.date(1972, 5, 6)),
            member(),
        ],
        actor=actor,
    )
    assert kept(household) == 3
    # When: a birth, a move out to another household, a death
    services.person_add_to_household(
        household=household, member=member(born=datetime.date(2025, 1, 1)), actor=actor
    )
    assert kept(household) == 4
    other = household_with_members(regions["community12"], size=1)
    child = household.members.filter(relation=Relation.CHILD).order_by("pk").first()
    services.person_move(
        person=child, to_household=other, relation=Relation.GRANDCHILD, date=timezone.localdate(), actor=actor
    )
    assert (kept(household), kept(other)) == (3, 2)
    spouse = household.members.get(relation=Relation.SPOUSE)
    services.person_record_death(person=spouse, death_date=timezone.localdate(), actor=actor)
    # Then: each step counted, and every household agrees with its members
    assert kept(household) == 2
    assert household_kept.mismatches() == []


def test_bulk_writes_and_raw_sql_move_the_count_by_household(regions):
    first = household_with_members(regions["community11"], size=2)
    second = household_with_members(regions["community11"], size=1)
    # A bulk insert of 50 people into two households: one statement, counted per household
    Person.objects.bulk_create(
        [
            PersonFactory.build(household=first if n % 2 else second, region_code=first.region_code)
            for n in range(50)
        ]
    )
    assert (kept(first), kept(second)) == (27, 26)
    # A queryset update: ten deaths, five moved across, three taken out of any household
    Person.objects.filter(pk__in=first.members.order_by("pk").values("pk")[:10]).update(
        death_date=datetime.date(2026, 11, 1)
    )
    Person.objects.filter(pk__in=second.members.order_by("-pk").values("pk")[:5]).update(household=first)
    Person.objects.filter(
        pk__in=first.members.filter(death_date=None).order_by("-pk").values("pk")[:3]
    ).update(household=None)
    # Raw SQL, outside Django: a death corrected back (the person was alive after all)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET death_date = NULL WHERE id = %s",
            [first.members.exclude(death_date=None).order_by("pk").values_list("pk", flat=True).first()],
        )
    assert household_kept.mismatches() == []
    assert kept(first) == 27 - 10 + 5 - 3 + 1
    assert kept(second) == 26 - 5
    # A delete (registry rows are never deleted by the services; a data fix could)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM registry_person p WHERE p.household_id = %s AND p.death_date IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM registry_membership m WHERE m.person_id = p.id)"
            " AND NOT EXISTS (SELECT 1 FROM registry_household h WHERE h.head_id = p.id)",
            [first.pk],
        )
        assert cursor.rowcount > 0
    assert household_kept.mismatches() == []


def test_a_household_saved_from_a_stale_copy_keeps_the_count(make_user, regions):
    actor = make_user(CASEWORKER, region="community11")
    household = household_with_members(regions["community11"], size=2)
    stale = Household.objects.get(pk=household.pk)  # a form loaded it: 2 members
    services.person_add_to_household(household=household, member=member(), actor=actor)
    # When: the stale copy is saved (every column, the count of 2 with them), or the count set directly
    stale.address = "长春市绿园区春城大街2号"
    stale.save()
    Household.objects.filter(pk=household.pk).update(living_members=99, head_name="冒名")
    # Then: the count is still the members', the name still the head's
    assert kept(household) == 3
    assert head_name(household) == household.head.name
    assert Household.objects.get(pk=household.pk).address == "长春市绿园区春城大街2号"
    assert household_kept.mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_two_clerks_adding_members_at_once_both_count(make_user, regions):
    """Two transactions add a member to the same household at once: the second's count waits for the
    first's row lock and adds to the committed value — no lost update."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database")
    actor = make_user(CASEWORKER, region="community11")
    household = household_with_members(regions["community11"], size=1)
    births = iter([datetime.date(2010, 1, 1), datetime.date(2012, 2, 2)])

    def add():
        return services.person_add_to_household(
            household=Household.objects.get(pk=household.pk), member=member(born=next(births)), actor=actor
        )

    outcomes = race_two(add)
    assert all(isinstance(outcome, Person) for outcome in outcomes.values()), outcomes
    assert kept(household) == 3
    assert household_kept.mismatches() == []


def test_the_head_name_follows_the_head_and_its_renaming(make_user, regions):
    actor = make_user("街道审核员", region="street1")
    household = services.household_register(
        region=regions["community11"],
        address="长春市绿园区春城大街1号",
        members=[member(Relation.HEAD, datetime.date(1970, 1, 2), name="赵大")],
        actor=actor,
    )
    assert head_name(household) == "赵大"
    # The head renamed through the service, then a bulk rename in SQL
    services.person_update(person=household.head, data={"name": "赵大明"}, actor=actor)
    assert head_name(household) == "赵大明"
    Person.objects.filter(pk=household.head_id).update(name="赵达明")
    assert head_name(household) == "赵达明"
    # The head moves out to another household where they become its head: both households follow
    other = Household.objects.create(
        number="220106001002999999",
        region=regions["community12"],
        region_code=regions["community12"].code,
        address="长春市绿园区春城大街3号",
        area_type="urban",
    )
    assert (kept(other), head_name(other)) == (0, "")
    services.person_move(
        person=household.head,
        to_household=other,
        relation=Relation.HEAD,
        date=timezone.localdate(),
        actor=actor,
    )
    assert (kept(household), head_name(household)) == (0, "")
    assert (kept(other), head_name(other)) == (1, "赵达明")
    assert household_kept.mismatches() == []


def test_the_sqlite_triggers_keep_both_columns():
    """`make run`'s SQLite path, on the triggers' own statements: a minimal pair of tables (the columns the
    triggers name), then what the services and a bulk write do."""
    db = sqlite3.connect(":memory:")
    columns = ", ".join(
        f"{c.strip()} TEXT" for c in household_kept._HOUSEHOLD_COLUMNS.split(",") if c.strip() != "head_id"
    )
    db.execute(
        f"CREATE TABLE registry_household (id INTEGER PRIMARY KEY, {columns}, head_id INTEGER,"  # noqa: S608
        " living_members INTEGER NOT NULL DEFAULT 0, head_name TEXT NOT NULL DEFAULT '')"
    )
    db.execute(
        "CREATE TABLE registry_person (id INTEGER PRIMARY KEY, name TEXT, household_id INTEGER, death_date TEXT)"
    )
    for statement in household_kept.SQLITE_CREATE:
        db.execute(statement)

    def row(pk):
        return db.execute(
            "SELECT living_members, head_name FROM registry_household WHERE id = ?", [pk]
        ).fetchone()

    db.execute("INSERT INTO registry_household (id, number) VALUES (1, 'A'), (2, 'B')")
    db.executemany(
        "INSERT INTO registry_person (id, name, household_id) VALUES (?, ?, ?)",
        [(10, "钱一", 1), (11, "钱二", 1), (12, "钱三", 1), (20, "孙一", 2)],
    )
    db.execute("UPDATE registry_household SET head_id = 10 WHERE id = 1")
    assert row(1) == (3, "钱一")
    db.execute("UPDATE registry_person SET death_date = '2026-11-01' WHERE id = 11")
    db.execute("UPDATE registry_person SET household_id = 2 WHERE id = 12")
    db.execute("UPDATE registry_person SET name = '钱壹' WHERE id = 10")
    assert (row(1), row(2)) == ((1, "钱壹"), (2, ""))
    # a save of the household from a stale copy: every column set, the stale values with them
    db.execute(
        "UPDATE registry_household SET number = 'A', head_id = 10, living_members = 9, head_name = 'x' WHERE id = 1"
    )
    assert row(1) == (1, "钱壹")
    db.execute("DELETE FROM registry_person WHERE id = 20")
    assert row(2) == (1, "")


def test_an_operator_finds_and_fixes_households_the_triggers_missed(regions):
    """After a restore or a load that skipped the triggers: `manage.py household_kept` lists the households
    whose kept columns disagree (exit 1), `--fix` puts them right, and the triggers keep them again after."""
    first = household_with_members(regions["community11"], size=3)
    second = household_with_members(regions["community11"], size=1)
    with connection.cursor() as cursor:
        # what a restore without the triggers leaves (PostgreSQL: replica mode skips them in this transaction)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE registry_household SET living_members = 0, head_name = '' WHERE id = %s", [first.pk]
        )
        cursor.execute("UPDATE registry_person SET name = '改名' WHERE id = %s", [second.head_id])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    out = io.StringIO()
    with pytest.raises(CommandError, match="不一致"):
        call_command("household_kept", stdout=out)
    assert f"家庭 {first.pk}：在册人数 0（应为 3）" in out.getvalue()
    assert f"家庭 {second.pk}：户主姓名 “{second.head.name}”（应为 “改名”）\n" in out.getvalue()
    call_command("household_kept", "--fix", stdout=out)
    assert "已修正 2 户" in out.getvalue()
    assert household_kept.mismatches() == []
    assert (kept(first), head_name(second)) == (3, "改名")
    # the household's trigger is back: a direct write of the columns is still refused
    Household.objects.filter(pk=first.pk).update(living_members=99)
    assert kept(first) == 3
    call_command("household_kept", stdout=out)
    assert "全部家庭的在册人数和户主姓名与人员信息一致" in out.getvalue()
