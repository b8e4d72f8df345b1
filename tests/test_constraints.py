"""core.constraints.violated: which constraint an IntegrityError is about, on PostgreSQL (the test database)
and on SQLite (the embedded default of `make run`, where a message matched on the constraint's name made
the second submit of a form a server error)."""

from __future__ import annotations

import datetime
import sqlite3

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import IntegrityError as DjangoIntegrityError

from core.constraints import violated
from core.registry.models import Assessment

from .factories import PersonFactory

D = datetime.date


def _assessment(person, **extra):
    fields = {
        "person": person,
        "kind": "tekun_self_care",
        "level": "full",
        "assessor": "评估员",
        "assessor_org": "区评估中心",
        "assessed_on": D(2026, 11, 2),
        "valid_until": D(2027, 11, 1),
        "region_code": person.region_code,
    }
    return Assessment(**{**fields, **extra})


@pytest.mark.django_db
def test_postgresql_names_the_constraint():
    person = PersonFactory()
    _assessment(person).save()
    with pytest.raises(IntegrityError) as same_day, transaction.atomic():
        _assessment(person).save()
    assert violated(same_day.value, Assessment, "one_assessment_per_person_kind_day")
    assert not violated(same_day.value, Assessment, "assessment_level_fits_kind")
    with pytest.raises(IntegrityError) as bad_level, transaction.atomic():
        _assessment(person, assessed_on=D(2026, 11, 3), level="total").save()
    assert violated(bad_level.value, Assessment, "assessment_level_fits_kind")
    assert not violated(bad_level.value, Assessment, "one_assessment_per_person_kind_day")


def _sqlite_error(ddl: list[str], rows: list[tuple]) -> DjangoIntegrityError:
    """A real SQLite violation, raised as Django raises it (its IntegrityError, the driver's as cause)."""
    connection = sqlite3.connect(":memory:")
    for statement in ddl:
        connection.execute(statement)
    try:
        for row in rows:
            connection.execute("INSERT INTO registry_assessment VALUES (?, ?, ?, ?)", row)
    except sqlite3.IntegrityError as error:
        wrapped = DjangoIntegrityError(*error.args)
        wrapped.__cause__ = error
        return wrapped
    finally:
        connection.close()
    raise AssertionError("no violation")


def test_sqlite_lists_the_columns():
    table = "CREATE TABLE registry_assessment (person_id int, kind text, assessed_on text, level text)"
    unique = (
        'CREATE UNIQUE INDEX "one_assessment_per_person_kind_day" '
        "ON registry_assessment (person_id, kind, assessed_on)"
    )
    error = _sqlite_error(
        [table, unique],
        [(1, "tekun_self_care", "2026-11-02", "full"), (1, "tekun_self_care", "2026-11-02", "none")],
    )
    assert str(error).startswith("UNIQUE constraint failed: registry_assessment.person_id")
    assert violated(error, Assessment, "one_assessment_per_person_kind_day")
    assert not violated(error, Assessment, "assessment_level_fits_kind")
    # Another unique constraint on other columns of the table is not mistaken for it
    other = _sqlite_error(
        [table, "CREATE UNIQUE INDEX other_one ON registry_assessment (person_id, kind)"],
        [(1, "tekun_self_care", "2026-11-02", "full"), (1, "tekun_self_care", "2026-11-03", "full")],
    )
    assert not violated(other, Assessment, "one_assessment_per_person_kind_day")
