"""财产 limits of 低保, 低保边缘 and 特困 (DOMAIN.md "财产 (assets) (local)"; 民发〔2021〕57号 第十一条:
家庭财产状况符合当地规定): the household's assets recorded in the registry on a date, against the
Parameters in force on that date:

- cash, deposits and securities per capita ≤ assets.financial_months × the monthly 低保 standard of the
  household's area (城市/农村);
- no home beyond the residence: houses ≤ 1 + assets.extra_homes;
- no motor vehicle above assets.vehicle_value_limit, unless it is needed for a member's disability
  (AssetRecord.for_disability);
- no registered business whose registered capital exceeds assets.business_capital_limit.

A rule of its own beside assistance/rules.py (the income and amount rules, already past 500 lines); that
module's `assess_categories` asks it. Set-based: for any number of households one query for their area
types (unless given), one for the living members, one for the asset records, one for the Parameters and
one for the standards. An asset record counts while the household holds it: from its 核查日期
(`recorded_on`) until its 处置/注销日期 (`disposed_on`, excluded) — a deposit re-recorded at a later check
ends the earlier record (core.registry.services.asset_record_end), so it is counted once.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from core.registry.choices import AssetKind
from core.registry.models import AssetRecord, Household, Person

P_FINANCIAL_MONTHS = "assets.financial_months"
P_EXTRA_HOMES = "assets.extra_homes"
P_VEHICLE_VALUE_LIMIT = "assets.vehicle_value_limit"
P_BUSINESS_CAPITAL_LIMIT = "assets.business_capital_limit"
ASSET_PARAMETERS = [P_FINANCIAL_MONTHS, P_EXTRA_HOMES, P_VEHICLE_VALUE_LIMIT, P_BUSINESS_CAPITAL_LIMIT]

FINANCIAL_KINDS = (AssetKind.DEPOSIT, AssetKind.SECURITIES)

LIMIT_FINANCIAL = "financial"
LIMIT_HOMES = "homes"
LIMIT_VEHICLE = "vehicle"
LIMIT_BUSINESS = "business"

ZERO = Decimal("0")


def _yuan(value: Decimal) -> str:
    """元 with thousands separators and two decimals, for the sentences a caseworker reads."""
    return f"{value:,.2f}"


def _count(value: Decimal) -> str:
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class AssetLimit:
    """One limit a household exceeds: `code` (financial / homes / vehicle / business) and the sentence
    that names it with the figures."""

    code: str
    text: str


@dataclass(frozen=True)
class AssetCheck:
    """A household's assets against the limits on a date. `recorded` says whether any asset was recorded
    by then (a household with none is not yet known to be within the limits: the home visit checks)."""

    household_id: int
    on_date: datetime.date
    recorded: int
    exceeded: tuple[AssetLimit, ...] = ()
    financial_per_capita: Decimal = ZERO
    financial_limit: Decimal | None = None

    @property
    def within(self) -> bool:
        return not self.exceeded

    @property
    def texts(self) -> list[str]:
        return [limit.text for limit in self.exceeded]

    @property
    def summary(self) -> str:
        """One sentence for an assessment: the limits exceeded, or what the check found."""
        if self.exceeded:
            return "；".join(self.texts)
        if not self.recorded:
            return "尚未登记家庭财产，财产状况以入户调查核实为准"
        if self.financial_limit is None:
            return "已登记家庭财产未超过规定"
        return (
            f"已登记家庭财产未超过规定（人均金融资产 {_yuan(self.financial_per_capita)} 元，"
            f"上限 {_yuan(self.financial_limit)} 元）"
        )


def asset_limits_check(
    households: Iterable[Household | int],
    on_date: datetime.date,
    *,
    member_counts: Mapping[int, int] | None = None,
    standards: Mapping[str, Decimal] | None = None,
    params: Mapping[str, Decimal] | None = None,
) -> dict[int, AssetCheck]:
    """{household id: AssetCheck} for every household on `on_date` (households as rows or ids).

    `member_counts` ({household id: living members}) spares the members query when the caller has them
    (assess_categories), as `standards` ({area type: monthly 低保 standard on the date}) and `params` (the
    assets.* Parameters in force on the date) spare theirs. Raises ParameterNotFound / StandardNotFound (BenefitsError) when a Parameter or
    the 低保 standard of a household's area is not in force on the date."""
    from core.benefits.models import BenefitType
    from core.benefits.selectors import parameters_in_force, standards_in_force_map

    area_types: dict[int, str] = {}
    ids: list[int] = []
    for household in households:
        if isinstance(household, int):
            ids.append(household)
        else:
            ids.append(household.pk)
            area_types[household.pk] = household.area_type
    ids = sorted(set(ids))
    if not ids:
        return {}
    missing = [hid for hid in ids if hid not in area_types]
    if missing:
        area_types.update(Household.objects.filter(pk__in=missing).values_list("pk", "area_type"))
    if member_counts is None:
        counts: dict[int, int] = defaultdict(int)
        living = Q(death_date__isnull=True) | Q(death_date__gt=on_date)
        for hid in Person.objects.filter(living, household_id__any_of=ids).values_list(
            "household_id", flat=True
        ):
            counts[hid] += 1
    else:
        counts = dict(member_counts)

    records: dict[int, list[tuple]] = defaultdict(list)
    rows = (
        AssetRecord.objects.filter(household_id__any_of=ids, recorded_on__lte=on_date)
        .filter(Q(disposed_on__isnull=True) | Q(disposed_on__gt=on_date))
        .order_by("household_id", "recorded_on", "id")
        .values_list("household_id", "kind", "value", "for_disability", "registered_capital", "description")
    )
    for hid, *row in rows:
        records[hid].append(tuple(row))

    if params is None:
        params = parameters_in_force(ASSET_PARAMETERS, on_date)
    months = params[P_FINANCIAL_MONTHS]
    extra_homes = params[P_EXTRA_HOMES]
    vehicle_limit = params[P_VEHICLE_VALUE_LIMIT]
    capital_limit = params[P_BUSINESS_CAPITAL_LIMIT]
    if standards is None:
        dibao_type = BenefitType.objects.get(code="dibao")
        in_force = standards_in_force_map(dibao_type, on_date)
        standards = {
            area: in_force.require(dibao_type.name, area, "").amount for area in set(area_types.values())
        }

    result: dict[int, AssetCheck] = {}
    for hid in ids:
        found = records.get(hid, [])
        exceeded: list[AssetLimit] = []
        members = counts.get(hid, 0)
        standard = standards[area_types[hid]]
        financial_limit = standard * months
        financial = sum((value for kind, value, *_ in found if kind in FINANCIAL_KINDS), ZERO)
        per_capita = financial / members if members else ZERO
        if members and per_capita > financial_limit:
            exceeded.append(
                AssetLimit(
                    LIMIT_FINANCIAL,
                    f"家庭人均金融资产（现金、存款、有价证券）{_yuan(per_capita)} 元，超过标准 "
                    f"{_yuan(standard)} 元×{_count(months)} 个月＝{_yuan(financial_limit)} 元",
                )
            )
        homes = sum(1 for kind, *_ in found if kind == AssetKind.HOUSE)
        if homes > 1 + extra_homes:
            allowed = (
                "不得拥有自住房以外的住房" if not extra_homes else f"自住房以外至多 {_count(extra_homes)} 套"
            )
            exceeded.append(AssetLimit(LIMIT_HOMES, f"家庭拥有住房 {homes} 套，超过规定（{allowed}）"))
        for kind, value, for_disability, _capital, description in found:
            if kind == AssetKind.VEHICLE and not for_disability and value > vehicle_limit:
                name = f"机动车（{description}）" if description else "机动车"
                exceeded.append(
                    AssetLimit(
                        LIMIT_VEHICLE,
                        f"{name}价值 {_yuan(value)} 元，超过 {_yuan(vehicle_limit)} 元"
                        "（残疾人功能性补偿代步车辆除外）",
                    )
                )
        for kind, _value, _disability, capital, description in found:
            if kind == AssetKind.BUSINESS and capital is not None and capital > capital_limit:
                name = f"登记注册的经营实体（{description}）" if description else "登记注册的经营实体"
                exceeded.append(
                    AssetLimit(
                        LIMIT_BUSINESS, f"{name}注册资本 {_yuan(capital)} 元，超过 {_yuan(capital_limit)} 元"
                    )
                )
        result[hid] = AssetCheck(
            household_id=hid,
            on_date=on_date,
            recorded=len(found),
            exceeded=tuple(exceeded),
            financial_per_capita=per_capita,
            financial_limit=financial_limit if members else None,
        )
    return result
