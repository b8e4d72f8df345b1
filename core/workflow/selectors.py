"""Reads of the case engine. Every list starts from `Case.objects.visible_to(user)`."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import BooleanField, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models import Case as CaseWhen
from django.utils import timezone

from .engine import status_q
from .models import Case, PublicNotice, TransitionLog

# Sort keys the case list accepts (the value after an optional "-").
SORT_FIELDS = {
    "number": "number",
    "applicant": "applicant_name",
    "type": "case_type",
    "status": "status",
    "due": "due_date",
    "created": "created_at",
    "updated": "updated_at",
}
DEFAULT_SORT = "-created"


def _overdue_q(today: datetime.date, case_path: str = "") -> Q:
    """Open cases past their step's time limit — except a case whose 公示 is still hanging: it is not
    overdue for the 公示's own days (notice_open also moves the due date past its end). `case_path` is
    "case__" on a bureau's record (whose primary key is its case's)."""
    running = PublicNotice.objects.filter(case=OuterRef("pk"), closed_at__isnull=True, end_date__gte=today)
    return Q(**{f"{case_path}is_open": True, f"{case_path}due_date__lt": today}) & ~Exists(running)


def _overdue_flag(today: datetime.date, case_path: str = ""):
    return CaseWhen(
        When(_overdue_q(today, case_path), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def records_with_overdue(records: QuerySet, today: datetime.date) -> QuerySet:
    """A bureau's records (`CaseRecord`s) annotated `is_overdue` by the same rule as the to-do list."""
    return records.annotate(is_overdue=_overdue_flag(today, "case__"))


def cases_visible_to(user) -> QuerySet[Case]:
    return Case.objects.visible_to(user)


def _role_names_subquery(user):
    # A subquery rather than user.groups.values_list(...) keeps the to-do list to one query.
    return Group.objects.filter(user=user).values("name")


def todo_for(user, today: datetime.date | None = None) -> QuerySet[Case]:
    """Open cases in the user's scope waiting for one of the user's roles, soonest due first;
    each row has `is_overdue` (due date before today). One query, region included."""
    today = today or timezone.localdate()
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    return (
        Case.objects.visible_to(user)
        .filter(is_open=True, assignee_role__in=_role_names_subquery(user))
        .annotate(is_overdue=_overdue_flag(today))
        .select_related("region")
        .order_by(F("due_date").asc(nulls_last=True), "created_at", "id")
    )


def todo_counts(user, today: datetime.date | None = None) -> dict[str, int]:
    """{"total": …, "overdue": …} of the user's to-do list, in one query."""
    today = today or timezone.localdate()
    if not getattr(user, "is_authenticated", False):
        return {"total": 0, "overdue": 0}
    result = (
        Case.objects.visible_to(user)
        .filter(is_open=True, assignee_role__in=_role_names_subquery(user))
        .aggregate(total=Count("id"), overdue=Count("id", filter=_overdue_q(today)))
    )
    return {"total": result["total"] or 0, "overdue": result["overdue"] or 0}


def overdue_cases(user, today: datetime.date | None = None) -> QuerySet[Case]:
    """All open cases past their step's time limit in the user's scope (whoever holds them)."""
    today = today or timezone.localdate()
    return (
        Case.objects.visible_to(user)
        .filter(_overdue_q(today))
        .annotate(is_overdue=Value(True, output_field=BooleanField()))
        .select_related("region")
        .order_by("due_date", "id")
    )


def case_search(user, params: Mapping[str, Any], today: datetime.date | None = None) -> QuerySet[Case]:
    """The case list: `q` (number or applicant name), `case_type`, `status`, `assignee_role`,
    `open` ("1" open / "0" closed), `overdue` ("1"), `sort` (see SORT_FIELDS, "-" for descending)."""
    today = today or timezone.localdate()
    qs = Case.objects.visible_to(user).select_related("region").annotate(is_overdue=_overdue_flag(today))
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(number__istartswith=q) | Q(applicant_name__contains=q))
    if params.get("case_type"):
        qs = qs.filter(case_type=params["case_type"])
    if params.get("status"):
        qs = qs.filter(status_q(params["status"]))
    if params.get("assignee_role"):
        qs = qs.filter(assignee_role=params["assignee_role"], is_open=True)
    if params.get("open") == "1":
        qs = qs.filter(is_open=True)
    elif params.get("open") == "0":
        qs = qs.filter(is_open=False)
    if params.get("overdue") == "1":
        qs = qs.filter(_overdue_q(today))
    return qs.order_by(*sort_ordering(params.get("sort")))


def sort_ordering(sort: str | None) -> list[str]:
    sort = sort or DEFAULT_SORT
    key = sort.lstrip("-")
    if key not in SORT_FIELDS:
        sort, key = DEFAULT_SORT, DEFAULT_SORT.lstrip("-")
    prefix = "-" if sort.startswith("-") else ""
    return [f"{prefix}{SORT_FIELDS[key]}", f"{prefix}id"]


def case_get(user, pk: int) -> Case:
    """One case in the user's scope with what its page shows, or Case.DoesNotExist."""
    return (
        Case.objects.visible_to(user)
        .select_related("region", "applicant_person", "applicant_household", "created_by", "updated_by")
        .get(pk=pk)
    )


def case_timeline(case: Case) -> QuerySet[TransitionLog]:
    return TransitionLog.objects.filter(case=case).select_related("actor").order_by("at", "id")


def case_notices(case: Case) -> QuerySet[PublicNotice]:
    return (
        PublicNotice.objects.filter(case=case)
        .select_related("created_by", "closed_by")
        .order_by("-start_date", "-id")
    )


def notices_open_in(user, today: datetime.date | None = None) -> QuerySet[PublicNotice]:
    """公示 in progress in the user's scope (for the printable notice list): posted and not past their last
    day (one past it but not yet closed hangs no more)."""
    today = today or timezone.localdate()
    return (
        PublicNotice.objects.visible_to(user)
        .filter(closed_at__isnull=True, start_date__lte=today, end_date__gte=today)
        .select_related("case", "case__region")
        .order_by("case__region_code", "end_date", "id")
    )
