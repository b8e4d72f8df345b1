"""Every read of the registry that is more than `.get()`: scoped, searched, with bounded queries."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    CharField,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Collate, Concat
from django.http import Http404
from django.utils import timezone

from core.validation import query_problem

from . import masking
from .choices import AreaType, IncomeTreatment, RegionLevel, Relation
from .crypto import id_number_q
from .models import AssetRecord, Attachment, Household, IncomeRecord, LifeEvent, Membership, Person, Region
from .names import name_contains_q
from .querysets import user_scope_prefix

SEARCH_LIMIT = 50
RIC_PATTERN = re.compile(r"^\d{17}[\dX]$")
NUMBER_PATTERN = re.compile(r"^[0-9A-Z\-]{4,}$")

HOUSEHOLD_SORTS = {
    "number": "number",
    "-number": "-number",
    "head": "head_name",
    "-head": "-head_name",
    "members": "living_members",
    "-members": "-living_members",
    "created": "created_at",
    "-created": "-created_at",
    "region": "region_code",
    "-region": "-region_code",
}


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# ---------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------


@dataclass
class SearchResult:
    query: str
    persons: list[Person] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    truncated: bool = False

    @property
    def count(self) -> int:
        return len(self.persons) + len(self.households)


def _searchable(query: str) -> str:
    """The query, or ValueError with the Chinese reason it cannot be searched (a NUL byte, which PostgreSQL
    refuses, or an absurd length: core.validation)."""
    problem = query_problem(query)
    if problem:
        raise ValueError(problem)
    return query


def people_search(user, q: str, *, limit: int = SEARCH_LIMIT) -> SearchResult:
    """人员查询: a full ID number (exact), a name (partial) or a household number (exact or prefix).

    Only records inside the user's scope are searched; at most `limit` of each kind are returned."""
    query = _searchable((q or "").strip().replace(" ", ""))
    result = SearchResult(query=query)
    if not query:
        return result
    upper = query.upper()
    households = Household.objects.visible_to(user).select_related("head", "region")

    person_filter = id_number_q(upper)
    if not RIC_PATTERN.match(upper):
        person_filter |= name_contains_q(query)
    # The page's ids first, sorted and cut to the limit (a subquery), then those rows with their household
    # and region: a common character matches thousands in a district, and joining each of them before the
    # top-N sort cost more than finding them (~1,000 index probes for 王).
    ids = (
        Person.objects.visible_to(user).filter(person_filter).order_by("name", "pk").values("pk")[: limit + 1]
    )
    found_persons = list(
        Person.objects.filter(pk__in=Subquery(ids)).select_related("household__region").order_by("name", "pk")
    )
    found_households: list[Household] = []
    if NUMBER_PATTERN.match(upper):
        found_households = list(
            households.filter(Q(number=upper) | Q(number__startswith=upper)).order_by("number")[: limit + 1]
        )
    result.truncated = len(found_persons) > limit or len(found_households) > limit
    result.persons = found_persons[:limit]
    result.households = found_households[:limit]
    return result


# ---------------------------------------------------------------------------------------------------
# Households
# ---------------------------------------------------------------------------------------------------


def households_visible_to(user) -> QuerySet[Household]:
    return Household.objects.visible_to(user)


def regions_visible_to(user, *, level: int | None = None) -> QuerySet[Region]:
    prefix = user_scope_prefix(user)
    regions = Region.objects.filter(is_active=True)
    if prefix is None:
        return regions.none()
    if prefix:
        regions = regions.filter(code__startswith=prefix)
    if level is not None:
        regions = regions.filter(level=level)
    return regions.order_by("code")


def household_list(
    user,
    *,
    q: str = "",
    street: str = "",
    community: str = "",
    area_type: str = "",
    active: str = "1",
    sort: str = "number",
    member_counts: bool = True,
) -> QuerySet[Household]:
    """家庭档案 list: scoped, filtered, sorted; head and region in the same query. Sorted by 户主 or 人数,
    the household's kept columns (`head_name`, `living_members`: kept by the database) sort the scope's
    rows from the covering index — no person read.

    `member_counts=False` leaves out the head and the regions: what the page paginates, by id, before
    `household_page_rows` loads the page's 50 rows (the name is the parameter's since the count was a
    GROUP BY over every member of the scope)."""
    households = households_visible_to(user)
    if member_counts:
        households = households.select_related("head", "region", "region__parent")
    q = _searchable((q or "").strip())
    if q:
        upper = q.upper()
        # The head's name is the household's kept column (no person read); the head's ID number, exact,
        # through its keyed hash (one index probe).
        heads = Person.objects.filter(id_number_q(upper)).values("pk")
        households = households.filter(
            Q(number__startswith=upper)
            | Q(head_name__contains=q)
            | Q(head_id__in=heads)
            | Q(address__contains=q)
        )
    if community.isdigit() and len(community) == 12:
        households = households.filter(region_code=community)
    elif street.isdigit() and len(street) == 12:
        households = households.filter(region_code__startswith=street[:9])
    if area_type in AreaType.values:
        households = households.filter(area_type=area_type)
    if active == "1":
        households = households.filter(is_active=True)
    elif active == "0":
        households = households.filter(is_active=False)
    order = HOUSEHOLD_SORTS.get(sort, "number")
    if order.lstrip("-") == "number" and not member_counts and user_scope_prefix(user):
        # The page's ids sorted, not walked along the 户编号 index: with a LIMIT the planner likes to walk
        # that index and filter — through every household of the city before the scope's when the scope is
        # a later district or a search matches few. The scope's rows (a district: ~40,000) sort in
        # milliseconds from the covering index. (The export reads every row: no LIMIT, its plan as before.)
        # On PostgreSQL compared bytewise (COLLATE "C": the numbers are digits, the order is the same), not
        # through the database's locale — strcoll over 40,000 keys was most of the page's sort.
        if connection.vendor == "postgresql":
            sort_key = Collate("number", "C")
        else:
            sort_key = Concat("number", Value(""), output_field=CharField())
        order = sort_key.desc() if order.startswith("-") else sort_key.asc()
    return households.order_by(order, "pk")


def household_page_rows(ids: list[int]) -> list[Household]:
    """The households of one list page, in the order of `ids` (already scoped and sorted by
    `household_list`), with head and regions: one query whatever the scope. The household's bank account
    is left unread (the list never shows it: 50 decryptions a page)."""
    households = (
        Household.objects.filter(pk__in=ids)
        .select_related("head", "region", "region__parent")
        .defer("bank_account")
    )
    by_id = {h.pk: h for h in households}
    return [by_id[pk] for pk in ids]


@dataclass
class IncomeSummary:
    counted: Decimal = Decimal("0")
    excluded: Decimal = Decimal("0")
    deducted: Decimal = Decimal("0")
    members: int = 0

    @property
    def net(self) -> Decimal:
        return max(self.counted - self.deducted, Decimal("0"))

    @property
    def per_capita(self) -> Decimal | None:
        if not self.members:
            return None
        return (self.net / self.members).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def income_in_force(record: IncomeRecord, day: datetime.date) -> bool:
    return record.period_start <= day and (record.period_end is None or record.period_end >= day)


def income_summary(incomes: list[IncomeRecord], living_members: int, day: datetime.date) -> IncomeSummary:
    """Monthly household income as 低保 counts it on `day`: counted kinds minus deducted kinds
    (民发〔2021〕57号 第十二条: some transfers are not counted, contributions and taxes are deducted),
    divided by the living members."""
    summary = IncomeSummary(members=living_members)
    for record in incomes:
        if not income_in_force(record, day):
            continue
        treatment = record.treatment
        if treatment == IncomeTreatment.COUNTED:
            summary.counted += record.monthly_amount
        elif treatment == IncomeTreatment.DEDUCTED:
            summary.deducted += record.monthly_amount
        else:
            summary.excluded += record.monthly_amount
    return summary


@dataclass
class MemberRow:
    person: Person
    relation_label: str
    age: int
    status: str
    status_class: str


@dataclass
class HouseholdDetail:
    household: Household
    members: list[MemberRow]
    former_members: list[Membership]
    incomes: list[IncomeRecord]
    assets: list[AssetRecord]
    attachments: list[Attachment]
    income: IncomeSummary
    asset_total: Decimal
    history: list[HistoryEntry]
    today: datetime.date
    # Asset records held today that share their kind and owner with another held record: a balance
    # re-recorded without ending the earlier record is counted twice by the 财产 limits.
    asset_duplicates: set[int] = field(default_factory=set)


RELATION_ORDER = {value: index for index, value in enumerate(Relation.values)}


def member_status(person: Person) -> tuple[str, str]:
    if person.death_date:
        return "已故", "secondary"
    if person.household_id is None:
        return "已迁出", "warning"
    return "在册", "success"


def household_detail(user, pk: int) -> HouseholdDetail:
    """A household's page: members, incomes, assets, attachments and history (404 outside scope)."""
    try:
        household = (
            households_visible_to(user)
            .select_related("head", "region__parent__parent__parent", "created_by")
            .prefetch_related(
                Prefetch("members", queryset=Person.objects.order_by("pk")),
                Prefetch("incomes", queryset=IncomeRecord.objects.select_related("person", "recorded_by")),
                Prefetch("assets", queryset=AssetRecord.objects.select_related("person", "recorded_by")),
            )
            .get(pk=pk)
        )
    except Household.DoesNotExist:
        raise Http404("家庭不存在或不在您的管辖范围内") from None
    today = timezone.localdate()
    members = sorted(
        household.members.all(), key=lambda p: (RELATION_ORDER.get(p.relation, 99), p.birth_date)
    )
    rows = []
    for person in members:
        status, status_class = member_status(person)
        end = person.death_date or today
        rows.append(
            MemberRow(
                person, person.get_relation_display(), age_on(person.birth_date, end), status, status_class
            )
        )
    former = list(
        Membership.objects.filter(household=household, left_on__isnull=False)
        .select_related("person")
        .order_by("-left_on")
    )
    incomes = list(household.incomes.all())
    assets = list(household.assets.all())
    held = [a for a in assets if a.held_on(today)]
    by_owner: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for asset in held:
        by_owner[(asset.kind, asset.person_id)].append(asset.pk)
    living = sum(1 for p in members if p.death_date is None)
    person_ids = [p.pk for p in members] + [m.person_id for m in former]
    return HouseholdDetail(
        household=household,
        members=rows,
        former_members=former,
        incomes=incomes,
        assets=assets,
        attachments=attachments_for(household),
        income=income_summary(incomes, living, today),
        asset_total=sum((a.value for a in held), Decimal("0")),
        asset_duplicates={pk for pks in by_owner.values() if len(pks) > 1 for pk in pks},
        history=household_history(
            household,
            person_ids=person_ids,
            income_ids=[i.pk for i in incomes],
            asset_ids=[a.pk for a in assets],
            names={p.pk: p.name for p in members},
        ),
        today=today,
    )


def attachments_for(target) -> list[Attachment]:
    content_type = ContentType.objects.get_for_model(target)
    return list(
        Attachment.objects.filter(content_type=content_type, object_id=target.pk, is_removed=False)
        .select_related("uploaded_by")
        .order_by("-uploaded_at")
    )


@dataclass
class PersonDetail:
    person: Person
    age: int
    status: str
    status_class: str
    memberships: list[Membership]
    life_events: list[LifeEvent]
    incomes: list[IncomeRecord]
    attachments: list[Attachment]
    history: list[HistoryEntry]


def person_detail(user, pk: int) -> PersonDetail:
    try:
        person = Person.objects.visible_to(user).select_related("household", "household__region").get(pk=pk)
    except Person.DoesNotExist:
        raise Http404("人员不存在或不在您的管辖范围内") from None
    status, status_class = member_status(person)
    today = timezone.localdate()
    return PersonDetail(
        person=person,
        age=age_on(person.birth_date, person.death_date or today),
        status=status,
        status_class=status_class,
        memberships=list(person.memberships.select_related("household").order_by("-joined_on", "-pk")),
        life_events=list(person.life_events.select_related("recorded_by").order_by("-event_date")),
        incomes=list(person.incomes.select_related("recorded_by")),
        attachments=attachments_for(person),
        history=history_entries(
            [(Person, [person.pk], lambda obj_id: person.name)],
        ),
    )


# ---------------------------------------------------------------------------------------------------
# History (simple_history): who changed what, when — one query per model, bounded
# ---------------------------------------------------------------------------------------------------

MASKED_FIELDS = {
    "id_number": masking.mask_id_number,
    "phone": masking.mask_phone,
    "bank_account": masking.mask_account,
}
HISTORY_SKIP = {"id", "created_at", "updated_at", "recorded_at", "region_code", "created_by", "recorded_by"}
HISTORY_LIMIT = 100


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: str
    action: str  # 新增 / 修改 / 删除
    subject: str
    changes: list[FieldChange]


def _display(field, value: Any, names: dict[int, str]) -> str:
    if value is None or value == "":
        return "（空）"
    if field.name in MASKED_FIELDS:
        return MASKED_FIELDS[field.name](str(value))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        return names.get(value, f"#{value}")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def history_entries(
    sources, *, names: dict[int, str] | None = None, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    """sources: (model, object ids, subject(obj_id) → str). One query per model; newest first."""
    names = names or {}
    entries: list[HistoryEntry] = []
    action_labels = {"+": "新增", "~": "修改", "-": "删除"}
    for model, ids, subject in sources:
        ids = list(ids)
        if not ids:
            continue
        kept = {f.attname for f in model.history.model._meta.concrete_fields}  # not its excluded_fields
        fields = [f for f in model._meta.concrete_fields if f.name not in HISTORY_SKIP and f.attname in kept]
        rows = list(
            model.history.filter(id__in=ids)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[: limit * 2]
        )
        by_object: dict[int, list] = defaultdict(list)
        for row in reversed(rows):  # oldest first per object
            by_object[row.id].append(row)
        for object_rows in by_object.values():
            previous = None
            for row in object_rows:
                changes = []
                if row.history_type == "~" and previous is not None:
                    for f in fields:
                        old, new = getattr(previous, f.attname), getattr(row, f.attname)
                        if old != new:
                            changes.append(
                                FieldChange(
                                    str(f.verbose_name), _display(f, old, names), _display(f, new, names)
                                )
                            )
                    if not changes:
                        previous = row
                        continue
                user = row.history_user
                entries.append(
                    HistoryEntry(
                        when=row.history_date,
                        who=str(user) if user else "系统",
                        action=action_labels.get(row.history_type, row.history_type),
                        subject=subject(row),
                        changes=changes,
                    )
                )
                previous = row
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def household_history(
    household: Household,
    *,
    person_ids: list[int],
    income_ids: list[int],
    asset_ids: list[int],
    names: dict[int, str],
) -> list[HistoryEntry]:
    """The household's own changes and those of its members, incomes and assets, newest first."""
    return history_entries(
        [
            (Household, [household.pk], lambda row: f"家庭 {row.number}"),
            (Person, person_ids, lambda row: f"成员 {row.name}"),
            (IncomeRecord, income_ids, lambda row: f"收入：{row.get_kind_display()}"),
            (AssetRecord, asset_ids, lambda row: f"财产：{row.get_kind_display()}"),
        ],
        names=names,
    )


def streets_and_communities(user) -> tuple[list[Region], list[Region]]:
    regions = list(
        regions_visible_to(user)
        .filter(level__in=[RegionLevel.STREET, RegionLevel.COMMUNITY])
        .only("code", "name", "level", "parent_id")
    )
    return (
        [r for r in regions if r.level == RegionLevel.STREET],
        [r for r in regions if r.level == RegionLevel.COMMUNITY],
    )


def household_search(user, q: str, limit: int = 20) -> list[Household]:
    """The picker of a new application: active households in the user's scope by 户编号 prefix, else by
    the head's name (partial). A query with control characters (a NUL byte) or too long is refused with ValueError."""
    q = _searchable((q or "").strip())
    if not q:
        return []
    base = Household.objects.visible_to(user).filter(is_active=True).select_related("head", "region")
    by_number = list(base.filter(number__istartswith=q.upper()).order_by("number")[:limit])
    return by_number or list(base.filter(head__name__contains=q).order_by("number")[:limit])
