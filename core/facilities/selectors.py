"""Every scoped read of the facilities register: a facility page, the hazards overdue on a day, the
facilities not inspected in a month or quarter. Each starts from `visible_to(user)`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Value, When

from core.registry.models import Attachment

from .choices import ReinspectionResult
from .models import Facility, Hazard, Inspection

PERIODS = {"month": "本月", "quarter": "本季度"}


def period_start(day: datetime.date, period: str) -> datetime.date:
    """The first day of the month or of the quarter (Jan/Apr/Jul/Oct) that holds `day`."""
    if period == "quarter":
        return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


def facilities_visible_to(user) -> QuerySet[Facility]:
    return Facility.objects.visible_to(user).select_related("kind", "region")


def facility_get(user, pk: int) -> Facility:
    """The facility if the user sees it (Facility.DoesNotExist otherwise: a 404 to the view)."""
    return facilities_visible_to(user).select_related("created_by").get(pk=pk)


def overdue_hazards(user, day: datetime.date) -> QuerySet[Hazard]:
    """Hazards not rectified whose deadline is before `day`: overdue from the day after the deadline."""
    return (
        Hazard.objects.visible_to(user)
        .filter(rectified_on__isnull=True, deadline__lt=day)
        .select_related("inspection__facility__kind", "inspection__facility__region")
    )


def not_inspected(
    rows: QuerySet[Facility], day: datetime.date, period: str, kind: str = ""
) -> QuerySet[Facility]:
    """Active facilities of `rows` without an inspection (of `kind`, if given) from the period's first day
    up to `day`."""
    inspections = Inspection.objects.filter(
        facility=OuterRef("pk"), inspected_on__gte=period_start(day, period), inspected_on__lte=day
    )
    if kind:
        inspections = inspections.filter(kind=kind)
    return rows.filter(is_active=True).filter(~Exists(inspections))


def with_last_inspection(rows: QuerySet[Facility]) -> QuerySet[Facility]:
    return rows.annotate(last_inspected_on=Max("inspections__inspected_on"))


@dataclass
class InspectionRow:
    inspection: Inspection
    hazards: list[Hazard]
    open_count: int


@dataclass
class FacilityDetail:
    facility: Facility
    inspections: list[InspectionRow]
    open_hazards: int
    overdue_hazards: int
    today: datetime.date


def facility_detail(user, pk: int, today: datetime.date) -> FacilityDetail:
    """The facility page: its inspections newest first, each with its hazards — the open ones first — and
    their photos; a fixed number of queries whatever the number of inspections."""
    facility = facility_get(user, pk)
    inspections = list(
        Inspection.objects.filter(facility=facility)
        .select_related("recorded_by")
        .prefetch_related("inspectors")
        .order_by("-inspected_on", "-pk")
    )
    hazards = list(
        Hazard.objects.filter(inspection__facility=facility)
        .select_related("reinspected_by")
        .annotate(
            closed=Case(
                When(reinspection_result=ReinspectionResult.PASSED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "deadline", "pk")
    )
    photos: dict[int, list[Attachment]] = {}
    if hazards:
        for photo in Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(Hazard),
            object_id__in=[h.pk for h in hazards],
            is_removed=False,
        ).order_by("uploaded_at"):
            photos.setdefault(photo.object_id, []).append(photo)
    by_inspection: dict[int, list[Hazard]] = {}
    for hazard in hazards:
        hazard.photos = photos.get(hazard.pk, [])
        hazard.overdue = hazard.is_overdue(today)
        by_inspection.setdefault(hazard.inspection_id, []).append(hazard)
    rows = []
    for inspection in inspections:
        mine = by_inspection.get(inspection.pk, [])
        rows.append(InspectionRow(inspection, mine, sum(1 for h in mine if not h.closed)))
    return FacilityDetail(
        facility=facility,
        inspections=rows,
        open_hazards=sum(1 for h in hazards if not h.closed),
        overdue_hazards=sum(1 for h in hazards if h.overdue),
        today=today,
    )


def hazard_get(user, pk: int) -> Hazard:
    return (
        Hazard.objects.visible_to(user)
        .select_related("inspection__facility__kind", "inspection__facility__region")
        .get(pk=pk)
    )


def inspection_get(user, pk: int) -> Inspection:
    return (
        Inspection.objects.visible_to(user)
        .select_related("facility__kind", "facility__region")
        .prefetch_related("inspectors")
        .get(pk=pk)
    )


def open_hazards_of(inspection: Inspection) -> list[Hazard]:
    """The hazards of an inspection not yet closed (销号), by deadline: what a 整改通知书 lists."""
    return list(
        inspection.hazards.filter(~Q(reinspection_result=ReinspectionResult.PASSED)).order_by(
            "deadline", "pk"
        )
    )
