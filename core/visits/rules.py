"""Building blocks for the programmes' suggestion rules (the bureau apps combine them): each returns a
`Q` on Person — a subquery, never a query per person — so a rule stays one query."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Q

from core.benefits.models import Entitlement
from core.registry.models import Assessment


def born_on_or_before_age(years: int, day: datetime.date) -> datetime.date:
    """The latest birth date of a person aged at least `years` on `day` (born 29 February: 1 March)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return datetime.date(day.year - years, 2, 28)


def aged_at_least(years: int, day: datetime.date) -> Q:
    return Q(birth_date__lte=born_on_or_before_age(years, day))


def aged_under(years: int, day: datetime.date) -> Q:
    return Q(birth_date__gt=born_on_or_before_age(years, day))


def _in_force(day: datetime.date) -> Q:
    month = day.replace(day=1)
    return (
        ~Q(status=Entitlement.Status.SUSPENDED)
        & Q(start_month__lte=month)
        & (Q(end_month__isnull=True) | Q(end_month__gte=month))
    )


def holds_entitlement(codes: tuple[str, ...], day: datetime.date, **params) -> Q:
    """The person has an entitlement of one of the benefit types in force in `day`'s month (not
    suspended); `params` filter its calculation parameters (tier="分散供养")."""
    rows = Entitlement.objects.filter(_in_force(day), benefit_type__code__in=codes)
    for key, value in params.items():
        rows = rows.filter(**{f"params__{key}": value})
    return Q(Exists(rows.filter(person=OuterRef("pk"))))


def in_household_with_entitlement(codes: tuple[str, ...], day: datetime.date) -> Q:
    """The person's (current) household holds an entitlement of the types in force in `day`'s month,
    granted to the household or to one of its members (a 特困 person makes a 特困 household)."""
    rows = Entitlement.objects.filter(_in_force(day), benefit_type__code__in=codes)
    return Q(household__isnull=False) & (
        Q(Exists(rows.filter(household=OuterRef("household"))))
        | Q(Exists(rows.filter(person__household=OuterRef("household"))))
    )


def assessed_at(kind: str, levels: tuple[str, ...], day: datetime.date) -> Q:
    """The person's assessment of `kind` in force on `day` (the latest made on or before it, still valid;
    core/registry/facts.py latest_assessment) has one of `levels`."""
    later = Assessment.objects.filter(person=OuterRef("person"), kind=kind, assessed_on__lte=day).filter(
        Q(assessed_on__gt=OuterRef("assessed_on"))
        | Q(assessed_on=OuterRef("assessed_on"), pk__gt=OuterRef("pk"))
    )
    in_force = (
        Assessment.objects.filter(kind=kind, assessed_on__lte=day, valid_until__gte=day, level__in=levels)
        .exclude(Exists(later))
        .values("person_id")
    )
    return Q(pk__in=in_force)


def severely_disabled() -> Q:
    """重度残疾: a disability certificate of grade 1 or 2."""
    return Q(disability_grade__in=(1, 2))
