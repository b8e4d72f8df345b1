"""Reads of the 保障对象台账. Every query starts from `Entitlement.objects.visible_to(user)`; amounts
and groups come from subqueries so a page costs the same number of queries whatever its size."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.benefits.models import Entitlement, PaymentLine, PaymentRun
from core.benefits.months import month_start
from core.registry.crypto import id_number_q
from core.registry.models import Person

# code → label; the first is the default category.
CATEGORIES = {
    "dibao": "低保",
    "tekun_basic": "特困",
    "disability_living": "困难残疾人生活补贴",
    "disability_care": "重度残疾人护理补贴",
}
DEFAULT_CATEGORY = "dibao"

TABS = {"active": "在保", "suspended": "暂停", "ended": "已停保"}
DEFAULT_TAB = "active"

GROUPS = {"elderly": "60岁以上老年人", "minor": "未成年人", "disabled": "残疾人", "ill": "重病患者"}

SORTS = {
    "number": ("ledger_number", "id"),
    "-number": ("-ledger_number", "-id"),
    "name": ("ledger_name", "id"),
    "-name": ("-ledger_name", "-id"),
    "amount": (F("month_amount").asc(nulls_last=True), "id"),
    "-amount": (F("month_amount").desc(nulls_last=True), "-id"),
    "start": ("start_month", "id"),
    "-start": ("-start_month", "-id"),
}
DEFAULT_SORT = "number"


def _years_ago(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _group_exists(group: str, today: datetime.date) -> Exists | None:
    """The household's living members (or the person of a personal entitlement) include one of `group`."""
    conditions = {
        "elderly": Q(birth_date__lte=_years_ago(today, 60)),
        "minor": Q(birth_date__gt=_years_ago(today, 18)),
        "disabled": Q(disability_grade__isnull=False),
        "ill": Q(serious_illness=True),
    }
    condition = conditions.get(group)
    if condition is None:
        return None
    beneficiary = Q(household_id=OuterRef("household_id")) | Q(pk=OuterRef("person_id"))
    return Exists(Person.objects.filter(beneficiary, condition, death_date__isnull=True))


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def ledger_list(user, params: Mapping[str, Any], *, today: datetime.date) -> QuerySet[Entitlement]:
    """保障对象台账. `category` (benefit type code), `tab` (active/suspended/ended), `q` (户编号 prefix,
    户主/享受人 name, full ID number), `street`, `community`, `area_type`, `group`, `amount_min`,
    `amount_max`, `sort`. Each row carries `month_amount` and `covered_persons` (None without a
    regular line in this month's run), `ledger_number` and `ledger_name`."""
    month = month_start(today)
    category = params.get("category") or DEFAULT_CATEGORY
    if category not in CATEGORIES:
        category = DEFAULT_CATEGORY
    line = PaymentLine.objects.filter(
        entitlement_id=OuterRef("pk"),
        run__month=month,
        run__kind=PaymentRun.Kind.MONTHLY,
        line_type=PaymentLine.LineType.REGULAR,
    ).order_by("id")
    qs = (
        Entitlement.objects.visible_to(user)
        .filter(benefit_type__code=category)
        .select_related("household", "household__head", "person", "person__household")
        .annotate(
            month_amount=Subquery(line.values("amount")[:1]),
            covered_persons=Subquery(line.values("covered_persons")[:1]),
            ledger_number=Coalesce("household__number", "person__household__number"),
            ledger_name=Coalesce("household__head__name", "person__name"),
        )
    )

    tab = params.get("tab") or DEFAULT_TAB
    in_force = Q(start_month__lte=month) & (Q(end_month__isnull=True) | Q(end_month__gte=month))
    if tab == "suspended":
        qs = qs.filter(status=Entitlement.Status.SUSPENDED)
    elif tab == "ended":
        qs = qs.filter(Q(status=Entitlement.Status.ENDED) | Q(end_month__lt=month))
    else:
        qs = qs.filter(in_force, status=Entitlement.Status.ACTIVE)

    q = (params.get("q") or "").strip()
    if q:
        upper = q.upper()
        qs = qs.filter(
            Q(household__number__istartswith=upper)
            | Q(person__household__number__istartswith=upper)
            | Q(household__head__name__contains=q)
            | Q(person__name__contains=q)
            | id_number_q(q, "household__head__")
            | id_number_q(q, "person__")
        )
    community = (params.get("community") or "").strip()
    street = (params.get("street") or "").strip()
    if community.isdigit():
        qs = qs.filter(region_code=community)
    elif street.isdigit():
        qs = qs.filter(region_code__startswith=street[:9])
    area_type = params.get("area_type") or ""
    if area_type in ("urban", "rural"):
        qs = qs.filter(area_type=area_type)
    group = _group_exists(params.get("group") or "", today)
    if group is not None:
        qs = qs.filter(group)
    amount_min = _decimal(params.get("amount_min"))
    amount_max = _decimal(params.get("amount_max"))
    if amount_min is not None:
        qs = qs.filter(month_amount__gte=amount_min)
    if amount_max is not None:
        qs = qs.filter(month_amount__lte=amount_max)

    sort = params.get("sort") or DEFAULT_SORT
    return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
