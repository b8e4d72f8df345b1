"""Issue 14 item 7 (`generate_city` ≤ 60 s): how the city is loaded faster must not change the city.

- The draws written as Random._randbelow and bisect (generate_city._plan) are random.Random's choice,
  randint, randrange and choices(…, weights)[0], value for value.
- Rows finished by the worker processes, in chunks, make the city the in-process path makes (the digest
  pinned in test_issue14_month_reports); the indexes and unique constraints dropped for the load come
  back with the same definitions; a load that fails — in the generator or in a COPY — leaves them as
  they were and no rows."""

import io
import itertools
import random
from bisect import bisect

import pytest
from django.core.management import call_command
from django.db import DataError, connection

from core.registry import household_kept
from core.registry.management.commands import generate_city
from core.registry.management.commands.generate_city import (
    CARE_TIERS,
    CARE_WEIGHTS,
    HEAD_AGE_WEIGHTS,
    HOUSEHOLD_SIZES,
    SIZE_TOTAL,
    SIZE_WEIGHTS,
    SURNAMES,
    Command,
)
from core.registry.models import Household, Person
from tests.test_issue14_month_reports import CITY_3000_DIGEST, _digest

TABLES = ["registry_household", "registry_person", "registry_membership", "registry_incomerecord"]
TABLES.append("benefits_entitlement")


@pytest.mark.parametrize("seed", [1, 2026])
def test_fast_draws_are_random_randoms(seed):
    a, b = random.Random(seed), random.Random(seed)
    below = b._randbelow
    for _ in range(3000):
        assert a.randint(22, 44) == 22 + below(23)
        assert a.randint(-5, 3) == -5 + below(9)
        assert a.randint(1, 364) == 1 + below(364)
        assert a.randrange(100, 500, 10) == 100 + 10 * below(40)
        assert a.randrange(120, 260, 5) == 120 + 5 * below(28)
        assert a.randrange(1500, 9000, 10) == 1500 + 10 * below(750)
        assert a.randrange(100, 600, 10) == 100 + 10 * below(50)
        assert a.randrange(1800, 5200, 10) == 1800 + 10 * below(340)
        assert a.randrange(10**17) == below(10**17)
        assert a.randrange(0, 46) == below(46)
        assert a.choice(SURNAMES) == SURNAMES[below(len(SURNAMES))]
        assert a.choice((1, 2, 2)) == (1, 2, 2)[below(3)]
        size = HOUSEHOLD_SIZES[bisect(SIZE_WEIGHTS, b.random() * SIZE_TOTAL, 0, 5)]
        assert a.choices(HOUSEHOLD_SIZES, weights=(25, 30, 25, 12, 6, 2))[0] == size
        assert (
            a.choices("abc", weights=(35, 40, 25))[0]
            == "abc"[bisect(HEAD_AGE_WEIGHTS, b.random() * 100.0, 0, 2)]
        )
        care = CARE_TIERS[bisect(CARE_WEIGHTS, b.random() * 100.0, 0, 2)]
        assert a.choices(CARE_TIERS, weights=(60, 28, 12))[0] == care


def _definitions() -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1, 2",
            [TABLES],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), condeferrable, condeferred"
            " FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [TABLES],
        )
        return indexes, cursor.fetchall()


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the load's COPY, worker processes and index rebuild are PostgreSQL's path")


@pytest.mark.django_db
def test_workers_and_chunks_load_the_same_city_and_indexes(postgresql, monkeypatch):
    # Given the indexes and constraints the migrations made …
    before = _definitions()
    assert len(before[0]) > 30
    # … when the city is generated in small chunks, its ID numbers and accounts finished by the workers
    monkeypatch.setattr(Command, "POOL_MIN_PEOPLE", 0)
    monkeypatch.setattr(Command, "CHUNK_HOUSEHOLDS", 250)
    out = io.StringIO()
    call_command("generate_city", people=3000, verbosity=2, stdout=out)
    # then it is the city of the in-process path, and every index and constraint is back as it was
    assert "删除 30 个二级索引" in out.getvalue()  # 0018 added entitlement_type_region_idx
    assert _digest() == CITY_3000_DIGEST
    assert _definitions() == before
    # and the households' kept columns (written by the load: its replica mode skips their triggers) agree
    assert household_kept.mismatches() == []
    assert (
        Household.objects.filter(living_members__gt=0).exclude(head_name="").count()
        == Household.objects.count()
    )


@pytest.mark.django_db
def test_a_load_failing_in_the_generator_leaves_the_indexes_and_no_rows(postgresql, monkeypatch):
    before = _definitions()
    generate = Command._generate

    def failing(self, *args):
        yield from itertools.islice(generate(self, *args), 2)
        raise RuntimeError("generator failed")

    monkeypatch.setattr(Command, "CHUNK_HOUSEHOLDS", 100)
    monkeypatch.setattr(Command, "_generate", failing)
    with pytest.raises(RuntimeError, match="generator failed"):
        call_command("generate_city", people=3000, stdout=io.StringIO())
    assert _definitions() == before
    assert not Person.objects.filter(region_code__startswith="22015").exists()


@pytest.mark.django_db
def test_a_load_failing_in_a_copy_raises_the_database_error(postgresql, monkeypatch):
    before = _definitions()
    monkeypatch.setattr(generate_city, "_person_rows", lambda rows: b"not a person\n")
    with pytest.raises(DataError):
        call_command("generate_city", people=3000, stdout=io.StringIO())
    assert _definitions() == before
    assert not Household.objects.filter(region_code__startswith="22015").exists()
