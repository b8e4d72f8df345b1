"""Reads of 探访关爱: which programmes a user works on, suggestions, the person card, coverage of a month."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.accounts.sections import DISTRICT_ROLES, user_section_codes
from core.benefits.models import Parameter
from core.registry.choices import RegionLevel
from core.registry.models import Person, Region
from core.registry.querysets import user_scope_prefix

from .models import Enrollment, SuggestionDismissal, Visit, VisitEnrollment
from .programmes import Programme, month_bounds, programmes


def visible_programme_codes(user) -> set[str] | None:
    """The programme codes a user works on; None = every programme. Community and street roles, 局领导
    and the rest are general; a user whose roles are all district roles (科室经办人, 科长) works on the
    programmes of the sections they hold them in."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return None
    roles = set(user.role_names)
    if not roles or not roles <= set(DISTRICT_ROLES):
        return None
    sections = user_section_codes(user)
    return {p.code for p in programmes() if p.section in sections}


def programmes_for(user) -> list[Programme]:
    codes = visible_programme_codes(user)
    return [p for p in programmes() if codes is None or p.code in codes]


def suggestions(user, programme: Programme, on_date: datetime.date) -> QuerySet[Person]:
    """The persons the programme's rule finds in the user's scope on `on_date`, alive, not in the
    programme now and not dismissed for it. One query."""
    enrolled = Enrollment.objects.filter(
        person=OuterRef("pk"), programme=programme.code, left_on__isnull=True
    )
    dismissed = SuggestionDismissal.objects.filter(person=OuterRef("pk"), programme=programme.code)
    return (
        programme.suggest(user, on_date)
        .filter(Q(death_date__isnull=True) | Q(death_date__gt=on_date))
        .exclude(Exists(enrolled))
        .exclude(Exists(dismissed))
    )


# --- the person card --------------------------------------------------------------------------------------


@dataclass
class PersonVisits:
    open_enrollments: list[Enrollment]
    past_enrollments: list[Enrollment]
    recent_visits: list[Visit]
    today: datetime.date

    @property
    def next_due(self) -> datetime.date | None:
        return min((e.next_due_on for e in self.open_enrollments), default=None)


def person_visits(user, person: Person) -> PersonVisits:
    """The person's enrolments and latest visits the user may see (the person was read in scope)."""
    enrollments = list(
        Enrollment.objects.visible_to(user).filter(person=person).order_by("-joined_on", "-pk")
    )
    visits = list(
        Visit.objects.visible_to(user)
        .filter(person=person)
        .select_related("recorded_by")
        .order_by("-visited_on", "-pk")[:5]
    )
    return PersonVisits(
        open_enrollments=[e for e in enrollments if e.is_open],
        past_enrollments=[e for e in enrollments if not e.is_open],
        recent_visits=visits,
        today=timezone.localdate(),
    )


# --- coverage of a month ------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    code: str
    name: str
    level: int
    programme: str
    programme_title: str
    enrolled: int = 0
    visited: int = 0
    target: Decimal | None = None

    @property
    def rate(self) -> Decimal | None:
        if not self.enrolled:
            return None
        return (Decimal(self.visited) / Decimal(self.enrolled) * 100).quantize(Decimal("0.1"))

    @property
    def target_percent(self) -> Decimal | None:
        return None if self.target is None else (self.target * 100).quantize(Decimal("0.1"))

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or not self.enrolled:
            return None
        return self.visited >= self.target * self.enrolled

    @property
    def unvisited(self) -> int:
        return self.enrolled - self.visited


@dataclass
class Coverage:
    month: datetime.date
    streets: list[CoverageRow] = field(default_factory=list)
    communities: list[CoverageRow] = field(default_factory=list)
    totals: list[CoverageRow] = field(default_factory=list)


def coverage(user, month: datetime.date, programme_code: str = "") -> Coverage:
    """Per community and per street, per programme: the persons enrolled on any day of the month and those
    of them visited at least once in it (a visit serving two programmes counts once in each), against the
    target parameter in force on the month's last day. One grouped query for the counts (the streets
    and the totals are sums of their communities), one for the region names, one for the targets."""
    first, last = month_bounds(month)
    visited = VisitEnrollment.objects.filter(
        enrollment__person=OuterRef("person"),
        programme=OuterRef("programme"),
        visited_on__range=(first, last),
    )
    rows = (
        Enrollment.objects.visible_to(user)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=first), joined_on__lte=last)
        .annotate(was_visited=Exists(visited))
    )
    if programme_code:
        rows = rows.filter(programme=programme_code)
    counts = (
        rows.values("region_code", "programme")
        .annotate(
            enrolled=Count("person", distinct=True),
            visited=Count("person", distinct=True, filter=Q(was_visited=True)),
        )
        .order_by("region_code", "programme")
    )
    counts = list(counts)
    titles = {p.code: p.title for p in programmes()}
    codes = sorted({row["programme"] for row in counts})
    targets = targets_on(codes, last)
    street_codes = {row["region_code"][:9] + "000" for row in counts}
    names = dict(
        Region.objects.filter(code__in={row["region_code"] for row in counts} | street_codes).values_list(
            "code", "name"
        )
    )
    result = Coverage(month=first)
    streets: dict[tuple[str, str], CoverageRow] = {}
    totals: dict[str, CoverageRow] = {}
    scope = user_scope_prefix(user) or ""
    for row in counts:
        code, programme = row["region_code"], row["programme"]
        title = titles.get(programme, programme)
        community = CoverageRow(
            code,
            names.get(code, code),
            RegionLevel.COMMUNITY,
            programme,
            title,
            row["enrolled"],
            row["visited"],
        )
        community.target = targets.get(programme)
        result.communities.append(community)
        street_code = code[:9] + "000"
        street = streets.setdefault(
            (street_code, programme),
            CoverageRow(
                street_code, names.get(street_code, street_code), RegionLevel.STREET, programme, title
            ),
        )
        total = totals.setdefault(programme, CoverageRow(scope, "合计", 0, programme, title))
        for target_row in (street, total):
            target_row.enrolled += community.enrolled
            target_row.visited += community.visited
            target_row.target = community.target
    result.streets = sorted(streets.values(), key=lambda r: (r.code, r.programme))
    result.totals = sorted(totals.values(), key=lambda r: r.programme)
    return result


def targets_on(codes: list[str], day: datetime.date) -> dict[str, Decimal | None]:
    """The coverage target of each programme in force on `day` (None where none is entered); one query."""
    keys = {f"visits.target.{code}": code for code in codes}
    rows = (
        Parameter.objects.filter(key__in=keys, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("key", "effective_from", "id")
        .values_list("key", "value")
    )
    found: dict[str, Decimal | None] = dict.fromkeys(codes)
    for key, value in rows:
        found[keys[key]] = value
    return found


def month_choices(today: datetime.date, count: int = 24) -> list[datetime.date]:
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return months
