"""Reads of the 残疾人两项补贴 flow. Every list and page starts from `visible_to(user)`.

The monthly comparison (应补尽补、应退尽退, seeds 003/004) is set-based: `monthly_comparison` reads the
scope's subsidies in force and its certified disabled people as plain values (four queries whatever the
number of recipients) and works the three lists and the coverage out in Python; the page's 50 rows are
loaded alone. `comparison_stop_list`, `comparison_add_list` and `comparison_coverage` state the same rules
as querysets (EXISTS subqueries): the reference the page's figures are tested against."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import month_start
from core.benefits.selectors import standard_in_force
from core.registry.models import Household, Person
from core.registry.querysets import user_scope_prefix

from ..models import DisabilitySubsidy, DisabilitySubsidyApplication
from .services import (
    BENEFIT_TYPE_OF,
    CARE_GRADES,
    CARE_TIER,
    DISABILITY_GRADES,
    SUBSIDY_OF,
    SubsidyCheck,
    dibao_active_q,
    in_force_q,
    subsidy_eligibility,
)


@dataclass(frozen=True)
class SubsidyAmount:
    """One subsidy the eligibility check finds fitting, at the standard in force (per month)."""

    label: str
    tier: str
    amount: Decimal


@dataclass
class ApplicationDetail:
    application: DisabilitySubsidyApplication
    entitlements: list[Entitlement]
    payment_lines: list[PaymentLine]
    # While open: how each applied subsidy fits today (the same rule the approval applies) and the monthly
    # amount of the fitting ones at the standards in force (`amount_error` when a standard is missing).
    checks: list[SubsidyCheck] = field(default_factory=list)
    amounts: list[SubsidyAmount] = field(default_factory=list)
    amount_error: str = ""
    month: datetime.date | None = None

    @property
    def monthly_total(self) -> Decimal | None:
        if self.amount_error or not self.amounts:
            return None
        return sum((a.amount for a in self.amounts), Decimal(0))


def subsidy_amounts(
    application: DisabilitySubsidyApplication, checks: list[SubsidyCheck], month: datetime.date
) -> tuple[list[SubsidyAmount], str]:
    """The monthly amount of each fitting subsidy at the standard in force in `month` for the household's
    urban/rural type: 生活补贴 one amount, 护理补贴 by grade (一级/二级) — what the calculators will pay."""
    area = application.household.area_type
    amounts = []
    try:
        types = {bt.code: bt for bt in BenefitType.objects.filter(code__in=list(BENEFIT_TYPE_OF.values()))}
        for check in checks:
            if not check.fits:
                continue
            code = BENEFIT_TYPE_OF[check.subsidy]
            if code not in types:
                return [], f"待遇类型“{check.label}”未设置，请联系系统管理员"
            tier = CARE_TIER[application.disability_grade] if check.subsidy == DisabilitySubsidy.CARE else ""
            standard = standard_in_force(types[code], area, tier, month)
            amounts.append(SubsidyAmount(check.label, tier, standard.amount))
    except BenefitsError as exc:
        return [], str(exc) or "两项补贴标准未设置"
    return amounts, ""


def disability_application_detail(user, pk: int) -> ApplicationDetail:
    application = (
        DisabilitySubsidyApplication.objects.visible_to(user)
        .select_related(
            "case",
            "case__region",
            "person",
            "person__household",
            "household",
            "household__region",
            "created_by",
            "living_entitlement",
            "care_entitlement",
        )
        .get(pk=pk)
    )
    entitlements = list(
        Entitlement.objects.filter(case_id=application.pk).select_related("benefit_type").order_by("id")
    )
    lines = list(
        PaymentLine.objects.filter(entitlement__in=[e.pk for e in entitlements])
        .select_related("run", "entitlement__benefit_type")
        .order_by("-for_month", "-id")[:24]
    )
    detail = ApplicationDetail(application=application, entitlements=entitlements, payment_lines=lines)
    if application.case.is_open:
        detail.month = month_start(timezone.localdate())
        detail.checks = subsidy_eligibility(
            person=application.person,
            grade=application.disability_grade,
            long_term_care=application.long_term_care,
            subsidies=application.subsidies,
            month=detail.month,
            exclude_case_id=application.pk,
        )
        detail.amounts, detail.amount_error = subsidy_amounts(application, detail.checks, detail.month)
    return detail


# ---------------------------------------------------------------------------------------------------
# Monthly comparison (应补尽补、应退尽退)
# ---------------------------------------------------------------------------------------------------

STOP_DEATH = "death"
STOP_CERT = "cert"
STOP_GRADE = "grade"
STOP_DIBAO = "dibao"
STOP_REASONS = {
    STOP_DEATH: "享受人已死亡",
    STOP_CERT: "残疾人证已注销",
    STOP_GRADE: "残疾等级已调整为三级或四级，不再属于重度残疾",
    STOP_DIBAO: "所在家庭已退出最低生活保障",
}


@dataclass
class StopRow:
    entitlement: Entitlement
    subsidy: str
    subsidy_label: str
    reasons: list[str]

    @property
    def reason_text(self) -> str:
        return "；".join(STOP_REASONS[r] for r in self.reasons)


@dataclass
class AddRow:
    person: Person
    subsidy: str
    subsidy_label: str
    open_case_id: int | None


@dataclass
class Coverage:
    subsidy: str
    label: str
    eligible: int
    covered: int

    @property
    def missing(self) -> int:
        return self.eligible - self.covered

    @property
    def rate(self) -> Decimal | None:
        if not self.eligible:
            return None
        return (Decimal(self.covered) * 100 / Decimal(self.eligible)).quantize(Decimal("0.1"))


def _dibao_household_exists(month: datetime.date, household_ref: str) -> Exists:
    return Exists(Entitlement.objects.filter(dibao_active_q(month), household_id=OuterRef(household_ref)))


def _receiving_exists(month: datetime.date, subsidy: str) -> Exists:
    """The person already has this subsidy: an active entitlement of its type not ending before the month
    (one that starts later counts: it has been granted)."""
    return Exists(
        Entitlement.objects.filter(
            Q(end_month__isnull=True) | Q(end_month__gte=month),
            person_id=OuterRef("pk"),
            status=Entitlement.Status.ACTIVE,
            benefit_type__code=BENEFIT_TYPE_OF[subsidy],
        )
    )


def _certified_q() -> Q:
    """A valid disability certificate in the registry: a grade 1–4 and a certificate number."""
    return Q(disability_grade__in=DISABILITY_GRADES) & ~Q(disability_cert_no="")


def _scoped_people(user) -> QuerySet[Person]:
    return Person.objects.visible_to(user).filter(death_date__isnull=True, household__isnull=False)


class _RowsLoadedByPage(Sequence):
    """A list whose order is worked out from plain values (`keys`) and whose rows are loaded only for the
    slice asked for — a page of 50 in one query (`_rows`), not the district's every row as model
    instances (issue 14). Equal to a list of the same rows (the tests compare it with the former lists)."""

    def __init__(self, keys: list):
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._rows(self._keys[index])
        return self._rows([self._keys[index]])[0]

    def __iter__(self):
        return iter(self._rows(self._keys))

    def __eq__(self, other) -> bool:
        if isinstance(other, _RowsLoadedByPage | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    @staticmethod
    def _rows(keys: list) -> list:
        raise NotImplementedError


class StopRows(_RowsLoadedByPage):
    """The 应退尽退 list, in order: which lines and why, worked out from plain values; the entitlements with
    their person, household and case are loaded only for the rows asked for (a page of 50: one query).
    At city scale a district has ~1,500 such lines, and building them all as model instances for a page of
    50 cost more than the query (issue 14)."""

    @staticmethod
    def _rows(keys: list[tuple[int, str, list[str]]]) -> list[StopRow]:
        entitlements = Entitlement.objects.select_related(
            "benefit_type", "person", "person__household", "case"
        ).in_bulk([pk for pk, _, _ in keys])
        labels = dict(DisabilitySubsidy.choices)
        return [StopRow(entitlements[pk], subsidy, labels[subsidy], reasons) for pk, subsidy, reasons in keys]


def _subsidies_in_force(user, month: datetime.date) -> list[tuple]:
    """The scope's 两项补贴 entitlements paid in `month`, with their person's facts, in the list's order."""
    return list(
        Entitlement.objects.visible_to(user)
        .filter(in_force_q(month), benefit_type__code__in=list(BENEFIT_TYPE_OF.values()))
        .order_by("region_code", "person_id", "benefit_type__code", "id")
        .values_list(
            "pk",
            "benefit_type__code",
            "person__household_id",
            "person__death_date",
            "person__disability_grade",
            "person__disability_cert_no",
        )
    )


def _dibao_households(month: datetime.date, households) -> set[int]:
    """Which of `households` hold an active 低保 entitlement in `month` (one query, the ids as one array)."""
    if not households:
        return set()
    return set(
        Entitlement.objects.filter(dibao_active_q(month), household_id__any_of=list(households))
        .order_by()
        .values_list("household_id", flat=True)
    )


def _stop_keys(lines: list[tuple], on_dibao: set[int]) -> list[tuple[int, str, list[str]]]:
    keys = []
    for pk, code, household, death_date, grade, cert_no in lines:
        subsidy = SUBSIDY_OF[code]
        reasons = []
        if death_date is not None:
            reasons.append(STOP_DEATH)
        if grade is None or not cert_no:
            reasons.append(STOP_CERT)
        elif subsidy == DisabilitySubsidy.CARE and grade not in CARE_GRADES:
            reasons.append(STOP_GRADE)
        if subsidy == DisabilitySubsidy.LIVING and household not in on_dibao:
            reasons.append(STOP_DIBAO)
        if reasons:
            keys.append((pk, subsidy, reasons))
    return keys


def comparison_stop_list(user, month: datetime.date) -> StopRows:
    """应退尽退: subsidies paid this month whose recipient died, whose certificate was cancelled (no grade
    or certificate number in the registry), whose grade is no longer 1–2 (护理补贴), or whose household left
    低保 (生活补贴). Two queries — the subsidies in force with their person's facts, the 低保 households among
    theirs — and one per page shown."""
    lines = _subsidies_in_force(user, month)
    living_households = {
        household
        for _, code, household, *_ in lines
        if SUBSIDY_OF[code] == DisabilitySubsidy.LIVING and household
    }
    return StopRows(_stop_keys(lines, _dibao_households(month, living_households)))


def _missing_people(user, month: datetime.date, subsidy: str) -> QuerySet[Person]:
    """Who should receive `subsidy` and does not (no active entitlement of it)."""
    people = _scoped_people(user).filter(_certified_q())
    if subsidy == DisabilitySubsidy.LIVING:
        people = people.filter(_dibao_household_exists(month, "household_id"))
    else:
        people = people.filter(disability_grade__in=CARE_GRADES)
    return people.filter(~_receiving_exists(month, subsidy))


def comparison_add_list(user, month: datetime.date, subsidy: str) -> QuerySet[Person]:
    """应补尽补: disabled members (grade 1–4 with a certificate) of active 低保 households without 生活补贴,
    or grade 1–2 people without 护理补贴; `open_case_id` is an open application of theirs. One query."""
    open_application = DisabilitySubsidyApplication.objects.filter(person_id=OuterRef("pk"), is_open=True)
    return (
        _missing_people(user, month, subsidy)
        .annotate(open_case_id=open_application.values("case_id")[:1])
        .select_related("household", "household__region")
        .order_by("region_code", "household__number", "pk")
    )


def comparison_coverage(user, month: datetime.date) -> list[Coverage]:
    """覆盖率 of each subsidy: of the people who should receive it, how many do (2025 target: 100 %)."""
    people = _scoped_people(user).filter(_certified_q())
    living = people.filter(_dibao_household_exists(month, "household_id")).aggregate(
        eligible=Count("pk"),
        covered=Count("pk", filter=Q(_receiving_exists(month, DisabilitySubsidy.LIVING))),
    )
    care = people.filter(disability_grade__in=CARE_GRADES).aggregate(
        eligible=Count("pk"),
        covered=Count("pk", filter=Q(_receiving_exists(month, DisabilitySubsidy.CARE))),
    )
    labels = dict(DisabilitySubsidy.choices)
    return [
        Coverage(
            DisabilitySubsidy.LIVING, labels[DisabilitySubsidy.LIVING], living["eligible"], living["covered"]
        ),
        Coverage(DisabilitySubsidy.CARE, labels[DisabilitySubsidy.CARE], care["eligible"], care["covered"]),
    ]


class AddRows(_RowsLoadedByPage):
    """An 应补尽补 list, in order (区划, 户编号, id): the people's ids worked out from plain values; the
    persons with their household, region and open application are loaded only for the rows asked for
    (a page of 50: one query), as `comparison_add_list` shows them."""

    @staticmethod
    def _rows(keys: list[int]) -> list[Person]:
        if not keys:
            return []
        open_application = DisabilitySubsidyApplication.objects.filter(person_id=OuterRef("pk"), is_open=True)
        people = (
            Person.objects.filter(pk__any_of=keys)
            .annotate(open_case_id=open_application.values("case_id")[:1])
            .select_related("household", "household__region")
            .in_bulk()
        )
        return [people[pk] for pk in keys]


@dataclass
class MonthlyComparison:
    stop: StopRows
    add: dict[str, AddRows]
    coverage: list[Coverage]

    @property
    def counts(self) -> dict[str, int]:
        return {"stop": len(self.stop), **{subsidy: len(rows) for subsidy, rows in self.add.items()}}


def monthly_comparison(user, month: datetime.date) -> MonthlyComparison:
    """月度比对 of the user's scope: the 应退尽退 list, both 应补尽补 lists and the coverage — what
    `comparison_stop_list`, `comparison_add_list` and `comparison_coverage` give, from four queries of plain
    values whatever the number of recipients: the subsidies in force with their person's facts; the
    scope's living certified disabled people (the partial covering index person_disabled_region_idx); the
    低保 households among both's households; the subsidies those people receive. Plus the 户编号 of the
    people missing a subsidy, for the lists' order. At city scale (a district: ~3,500 subsidies, ~6,000
    certified people) the EXISTS queries walked the city's 90,000 低保 households twice (issue 14)."""
    living_code = BENEFIT_TYPE_OF[DisabilitySubsidy.LIVING]
    care_code = BENEFIT_TYPE_OF[DisabilitySubsidy.CARE]
    lines = _subsidies_in_force(user, month)
    people = list(
        _scoped_people(user)
        .filter(_certified_q())
        .order_by()
        .values_list("pk", "household_id", "disability_grade", "region_code")
    )
    subsidy_households = {
        household for _, code, household, *_ in lines if code == living_code and household is not None
    }
    on_dibao = _dibao_households(month, subsidy_households | {household for _, household, _, _ in people})
    receiving: dict[str, set[int]] = {living_code: set(), care_code: set()}
    if people:
        rows = (
            Entitlement.objects.filter(
                Q(end_month__isnull=True) | Q(end_month__gte=month),
                person_id__any_of=[pk for pk, *_ in people],
                status=Entitlement.Status.ACTIVE,
                benefit_type__code__in=[living_code, care_code],
            )
            .order_by()
            .values_list("person_id", "benefit_type__code")
        )
        for person_id, code in rows:
            receiving[code].add(person_id)
    eligible = {
        DisabilitySubsidy.LIVING: [p for p in people if p[1] in on_dibao],
        DisabilitySubsidy.CARE: [p for p in people if p[2] in CARE_GRADES],
    }
    missing = {
        subsidy: [p for p in group if p[0] not in receiving[BENEFIT_TYPE_OF[subsidy]]]
        for subsidy, group in eligible.items()
    }
    households = {household for group in missing.values() for _, household, _, _ in group}
    numbers = dict(
        Household.objects.filter(pk__any_of=list(households)).order_by().values_list("pk", "number")
        if households
        else []
    )
    labels = dict(DisabilitySubsidy.choices)
    return MonthlyComparison(
        stop=StopRows(_stop_keys(lines, on_dibao)),
        add={
            subsidy: AddRows([p[0] for p in sorted(group, key=lambda p: (p[3], numbers[p[1]], p[0]))])
            for subsidy, group in missing.items()
        },
        coverage=[
            Coverage(
                subsidy,
                labels[subsidy],
                len(group),
                sum(1 for p in group if p[0] in receiving[BENEFIT_TYPE_OF[subsidy]]),
            )
            for subsidy, group in eligible.items()
        ],
    )


# --- the comparison kept for a few minutes ----------------------------------------------------------------

#: How long a scope's comparison is reused (the page says when it was made and offers 重新比对).
COMPARISON_CACHE_SECONDS = 300
_COMPARISON_VERSION_KEY = "disability_comparison:version"


def comparison_changed(**kwargs) -> None:
    """A subsidy, a 低保 entitlement or a person changed: every kept comparison is stale (signal receiver,
    connected in assistance.disability.signals; bulk updates send none — hence the short lifetime)."""
    try:
        cache.incr(_COMPARISON_VERSION_KEY)
    except ValueError:
        cache.set(_COMPARISON_VERSION_KEY, 1, None)


def monthly_comparison_kept(
    user, month: datetime.date, *, refresh: bool = False
) -> tuple[MonthlyComparison, datetime.datetime]:
    """`monthly_comparison` of the user's scope and month, and when it was made: kept for
    COMPARISON_CACHE_SECONDS and shared by the scope's users (a district's comparison reads its ~3,500
    subsidies and ~6,000 certified people: the page's time, issue 14), made again at once after any
    entitlement or person is saved (`comparison_changed`) or when the user asks (`refresh`)."""
    prefix = user_scope_prefix(user)
    if prefix is None:  # no data scope: nothing to compare, nothing to keep
        return monthly_comparison(user, month), timezone.now()
    version = cache.get(_COMPARISON_VERSION_KEY, 0)
    key = f"disability_comparison:{prefix or 'all'}:{month.isoformat()}:{version}"
    kept = None if refresh else cache.get(key)
    if kept is None:
        kept = (monthly_comparison(user, month), timezone.now())
        cache.set(key, kept, COMPARISON_CACHE_SECONDS)
    return kept
