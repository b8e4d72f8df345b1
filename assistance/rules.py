"""社会救助 rules as pure, set-based functions: household income facts, member facts, the 低保 amount
(补差 + 分类施保 + 保底), the category assessment of an application (低保 / 低保边缘 / 特困 / 刚性支出困难)
and the 特困 self-care tier.

The same functions serve the application assessment (assistance.services) and the monthly calculators
(assistance.calculators), so a household is judged by one rule whether it applies or is paid. Reads are
set-based: one query for the living members of any number of households, one aggregate query for their
incomes. The numbers (standards, ratios) are never constants here: callers pass the Standard and the
Parameters in force on the date the rule applies to (DESIGN.md "Parameters with effective dates").

Money is Decimal throughout. Per-capita income is kept exact (an unrounded quotient) and every amount is
rounded once, ROUND_HALF_UP, at the end (DESIGN.md "Money"); values shown with two decimals in an
explanation are display roundings only and say so.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db.models import Q, Sum

from core.benefits.calculators import register_steps, round_amount
from core.benefits.exceptions import CalculationError
from core.benefits.models import Rounding
from core.registry.choices import DisabilityCategory, IncomeKind, IncomeTreatment, income_treatment
from core.registry.models import IncomeRecord, Person

from .asset_limits import ASSET_PARAMETERS, asset_limits_check

ZERO = Decimal("0")
CENT = Decimal("0.01")
_TEN_THOUSANDTH = Decimal("0.0001")

# --- parameter keys (seeded by assistance/migrations/0001_benefit_types_and_parameters.py) ----------

# 分类施保 (DOMAIN.md "社会救助", seeded by assistance/migrations/0008_classified_parameters_temp_amounts.py;
# the earlier dibao.increment.* keys held misread ratios and are no longer read).
P_SEVERE_DISABILITY = "dibao.classified.severe_disability"
P_SERIOUS_ILLNESS = "dibao.classified.serious_illness"
P_AGE60_OR_MINOR = "dibao.classified.age60_or_minor"
P_AGE70 = "dibao.classified.age70"
# How 分类施保 is paid: 0 = an addition of the rule's share of the standard (demo), 1 = a floor: such a
# member's 补差 is topped up to "not below" P_CLASSIFIED_FLOOR_SHARE × the standard.
P_CLASSIFIED_MODE = "dibao.classified.mode"
P_CLASSIFIED_FLOOR_SHARE = "dibao.classified.floor_share"
CLASSIFIED_ADDITION = Decimal("0")
CLASSIFIED_FLOOR = Decimal("1")
P_FLOOR_RATIO = "dibao.floor_ratio"
P_EDGE_RATIO = "dibao.edge_ratio"
P_TEKUN_MINOR_AGE = "tekun.minor_age"
P_RIGID_SPENDING_SHARE = "rigid.spending_share"

DIBAO_AMOUNT_PARAMETERS = [
    P_SEVERE_DISABILITY,
    P_SERIOUS_ILLNESS,
    P_AGE60_OR_MINOR,
    P_AGE70,
    P_CLASSIFIED_MODE,
    P_CLASSIFIED_FLOOR_SHARE,
    P_FLOOR_RATIO,
]
ASSESSMENT_PARAMETERS = [P_EDGE_RATIO, P_TEKUN_MINOR_AGE, P_RIGID_SPENDING_SHARE]

ADULT_AGE = 18  # 《民法典》第十七条: 十八周岁以上的自然人为成年人
AGE_60 = 60
AGE_70 = 70


def display_money(value: Decimal) -> str:
    """Two decimals, ROUND_HALF_UP — for explanations only, never fed back into a computation."""
    # str() of a value quantized to 0.01 is its two-decimal form; positional arguments, because this
    # runs ten times per household of a city's run (keywords made it twice as slow).
    return str(value.quantize(CENT, ROUND_HALF_UP))


def _exact_text(value: Decimal) -> str:
    """An exact intermediate amount for the rounding step: up to four decimals, trailing zeros dropped."""
    return f"{value.quantize(_TEN_THOUSANDTH, ROUND_HALF_UP).normalize():f}"


def _ratio_text(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


# --- income facts ----------------------------------------------------------------------------------

_EXCLUDED_KINDS = [k for k in IncomeKind.values if income_treatment(k) == IncomeTreatment.EXCLUDED]
_DEDUCTED_KINDS = [k for k in IncomeKind.values if income_treatment(k) == IncomeTreatment.DEDUCTED]
_NOT_COUNTED_KINDS = _EXCLUDED_KINDS + _DEDUCTED_KINDS


@dataclass(frozen=True)
class IncomeSums:
    """Monthly sums of income records in force, by treatment (民发〔2021〕57号: 计入 / 不计入 / 扣减)."""

    counted: Decimal = ZERO
    excluded: Decimal = ZERO
    deducted: Decimal = ZERO

    def __add__(self, other: IncomeSums) -> IncomeSums:
        return IncomeSums(
            self.counted + other.counted, self.excluded + other.excluded, self.deducted + other.deducted
        )

    @property
    def net(self) -> Decimal:
        """Counted income less deductions, never below zero (deductions cannot create a negative income)."""
        return max(ZERO, self.counted - self.deducted)


@dataclass(frozen=True)
class IncomeFacts:
    """A household's income position on a date. `per_capita` is EXACT (unrounded Decimal quotient): it
    feeds the 补差 computation; round it only for display (display_money)."""

    household_id: int
    members: int
    counted: Decimal
    excluded: Decimal
    deducted: Decimal
    by_person: Mapping[int, IncomeSums] = field(default_factory=dict)

    @property
    def net(self) -> Decimal:
        return max(ZERO, self.counted - self.deducted)

    @property
    def per_capita(self) -> Decimal:
        if self.members <= 0:
            return ZERO
        return self.net / self.members

    def of_persons(self, person_ids: Iterable[int]) -> IncomeSums:
        """The sums of the income records attributed to these members (单人户 / 单人保)."""
        total = IncomeSums()
        for person_id in person_ids:
            total = total + self.by_person.get(person_id, IncomeSums())
        return total


def _in_force(on_date: datetime.date) -> Q:
    return Q(period_start__lte=on_date) & (Q(period_end__isnull=True) | Q(period_end__gte=on_date))


def _living_on(on_date: datetime.date) -> Q:
    # Alive on the date: a member who died on or before it no longer counts.
    return Q(death_date__isnull=True) | Q(death_date__gt=on_date)


def household_income_facts(
    household_ids: Iterable[int],
    on_date: datetime.date,
    *,
    members_by_household: Mapping[int, list[MemberFacts]] | None = None,
) -> dict[int, IncomeFacts]:
    """{household id: IncomeFacts} for every household, on `on_date`.

    Two queries for any number of households: the living-member count (Person.household, alive on the
    date) — skipped when the caller already loaded the members — and one aggregate over the income records
    in force on the date (period_start <= date, period_end empty or >= date), summed by household and
    member with conditional sums per treatment (core.registry.choices.income_treatment)."""
    ids = sorted(set(household_ids))
    if not ids:
        return {}
    if members_by_household is None:
        counts: dict[int, int] = defaultdict(int)
        rows = Person.objects.filter(_living_on(on_date), household_id__any_of=ids).values_list(
            "household_id", flat=True
        )
        for household_id in rows:
            counts[household_id] += 1
    else:
        counts = {hid: len(members_by_household.get(hid, [])) for hid in ids}

    sums = (
        IncomeRecord.objects.filter(_in_force(on_date), household_id__any_of=ids)
        .values("household_id", "person_id")
        .annotate(
            counted=Sum("monthly_amount", filter=~Q(kind__in=_NOT_COUNTED_KINDS)),
            excluded=Sum("monthly_amount", filter=Q(kind__in=_EXCLUDED_KINDS)),
            deducted=Sum("monthly_amount", filter=Q(kind__in=_DEDUCTED_KINDS)),
        )
        .order_by()
        .values_list("household_id", "person_id", "counted", "excluded", "deducted")
    )
    totals: dict[int, IncomeSums] = {}
    by_person: dict[int, dict[int, IncomeSums]] = defaultdict(dict)
    for household_id, person_id, counted, excluded, deducted in sums:
        part = IncomeSums(counted or ZERO, excluded or ZERO, deducted or ZERO)
        before = totals.get(household_id)
        totals[household_id] = part if before is None else before + part
        if person_id is not None:
            by_person[household_id][person_id] = part
    none = IncomeSums()
    facts = {}
    for hid in ids:
        total = totals.get(hid, none)
        facts[hid] = IncomeFacts(
            hid, counts.get(hid, 0), total.counted, total.excluded, total.deducted, by_person.get(hid, {})
        )
    return facts


# --- member facts ----------------------------------------------------------------------------------


def age_on(birth_date: datetime.date, on_date: datetime.date) -> int:
    """Age in full years (周岁) on a date: the birthday itself counts (born 1950-07-01 → 71 on 2021-07-01)."""
    years = on_date.year - birth_date.year
    if (on_date.month, on_date.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class MemberFacts(NamedTuple):
    """What the rules need to know about one person — built from a query row or a Person. A NamedTuple:
    immutable like a frozen dataclass, and built several times faster (a city's 低保 reads 225,000)."""

    person_id: int
    household_id: int | None
    name: str
    birth_date: datetime.date
    disability_category: str = ""
    disability_grade: int | None = None
    serious_illness: bool = False
    death_date: datetime.date | None = None

    @classmethod
    def from_person(cls, person: Person) -> MemberFacts:
        return cls(
            person_id=person.pk,
            household_id=person.household_id,
            name=person.name,
            birth_date=person.birth_date,
            disability_category=person.disability_category or "",
            disability_grade=person.disability_grade,
            serious_illness=bool(person.serious_illness),
            death_date=person.death_date,
        )

    def alive_on(self, on_date: datetime.date) -> bool:
        return self.death_date is None or self.death_date > on_date

    def age(self, on_date: datetime.date) -> int:
        return age_on(self.birth_date, on_date)

    @property
    def severely_disabled(self) -> bool:
        """重度残疾 for 分类施保: disability grade 1 or 2 of any category.

        《残疾人残疾分类和分级》(GB/T 26341-2010) calls grades 1–2 重度; DOMAIN.md "社会救助" lists the
        ≥ 75 % increment for a "severely disabled member". Grade-3 intellectual/mental disability is
        treated like it only for 单人保 (see `single_cover_condition`), where DOMAIN.md names it explicitly."""
        return self.disability_grade in (1, 2)

    @property
    def single_cover_condition(self) -> bool:
        """May be covered alone (单人保) from a 低保边缘 household: grade 1–2 disability certificate, grade 3
        intellectual/mental, or a recognised serious illness — 民发〔2020〕69号 ("参照单人户纳入低保"),
        DOMAIN.md "单人保"."""
        grade3_mind = self.disability_grade == 3 and self.disability_category in (
            DisabilityCategory.INTELLECTUAL,
            DisabilityCategory.MENTAL,
        )
        return self.severely_disabled or grade3_mind or self.serious_illness

    def is_minor(self, on_date: datetime.date) -> bool:
        return self.age(on_date) < ADULT_AGE

    def unable_to_work(self, on_date: datetime.date, minor_age: int) -> str:
        """The reason this member counts as 无劳动能力 for 特困 (民发〔2021〕43号 第六条), or "" if not:
        aged ≥ 60, under `minor_age` (16; some provinces 18), grade 1–3 intellectual/mental, grade 1–2
        physical, grade 1 visual disability."""
        age = self.age(on_date)
        grade = self.disability_grade
        category = self.disability_category
        labels = dict(DisabilityCategory.choices)
        if age >= AGE_60:
            return f"年满60周岁（{age}岁）"
        if age < minor_age:
            return f"未满{minor_age}周岁（{age}岁）"
        if grade is None:
            return ""
        if (
            (category in (DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL) and grade <= 3)
            or (category == DisabilityCategory.PHYSICAL and grade <= 2)
            or (category == DisabilityCategory.VISUAL and grade == 1)
        ):
            return f"{labels.get(category, category)}{grade}级"
        return ""


def living_members(household_ids: Iterable[int], on_date: datetime.date) -> dict[int, list[MemberFacts]]:
    """{household id: [living members]} — one query for any number of households (Person.household)."""
    ids = sorted(set(household_ids))
    result: dict[int, list[MemberFacts]] = {hid: [] for hid in ids}
    if not ids:
        return result
    rows = (
        Person.objects.filter(_living_on(on_date), household_id__any_of=ids)
        .order_by("household_id", "id")
        .values_list(  # MemberFacts' field order: tuples, one per member (225,000 for a city's 低保)
            "id",
            "household_id",
            "name",
            "birth_date",
            "disability_category",
            "disability_grade",
            "serious_illness",
            "death_date",
        )
    )
    for pid, hid, name, birth, category, grade, ill, death in rows:
        result[hid].append(MemberFacts(pid, hid, name, birth, category or "", grade, ill, death))
    return result


# --- 分类施保 increments -------------------------------------------------------------------------------

# (parameter key, label) — every rule a member may meet; the ratios come from the Parameters in force.
INCREMENT_RULES = (
    (P_SERIOUS_ILLNESS, "重病"),
    (P_SEVERE_DISABILITY, "重度残疾（一、二级）"),
    (P_AGE70, "70周岁以上"),
    (P_AGE60_OR_MINOR, "60周岁以上或未成年"),
)
_INCREMENT_LABELS = dict(INCREMENT_RULES)


def _rules_met(member: MemberFacts, age: int) -> list[str]:
    met = []
    if member.serious_illness:
        met.append(P_SERIOUS_ILLNESS)
    if member.disability_grade in (1, 2):  # MemberFacts.severely_disabled
        met.append(P_SEVERE_DISABILITY)
    if age >= AGE_70:
        met.append(P_AGE70)
    if age >= AGE_60 or age < ADULT_AGE:
        met.append(P_AGE60_OR_MINOR)
    return met


def age_that_counts(member: MemberFacts, on_date: datetime.date) -> int | None:
    """The member's age on a date where it counts in dibao_amount — when the member meets a 分类施保 rule, the
    increment names the age — else None: an adult of 18–59 without a condition is computed alike at 25
    and at 26 (the 低保 calculator's memo keys on this)."""
    age = member.age(on_date)
    return age if _rules_met(member, age) else None


def increment_rules_met(member: MemberFacts, on_date: datetime.date) -> list[str]:
    """The 分类施保 parameter keys this member meets on a date (a 72-year-old meets both age rules)."""
    return _rules_met(member, member.age(on_date))


@dataclass(frozen=True)
class MemberIncrement:
    person_id: int
    name: str
    age: int
    rule: str  # the parameter key applied ("" = none)
    label: str
    ratio: Decimal
    amount: Decimal  # exact (ratio × standard); rounded with the household's total
    also_met: tuple[str, ...] = ()


def member_increment(
    member: MemberFacts, on_date: datetime.date, standard: Decimal, ratios: Mapping[str, Decimal]
) -> MemberIncrement:
    """The member's 分类施保: the HIGHEST applicable ratio × standard, never the sum (DOMAIN.md "社会救助":
    "when several apply take the highest, not the sum"). Ties go to the rule listed first."""
    age = member.age(on_date)
    met = _rules_met(member, age)
    if not met:
        return MemberIncrement(member.person_id, member.name, age, "", "", ZERO, ZERO)
    return _increment(member, age, met, standard, ratios)


def _increment(
    member: MemberFacts, age: int, met: list[str], standard: Decimal, ratios: Mapping[str, Decimal]
) -> MemberIncrement:
    if len(met) == 1:
        best, others = met[0], ()
    else:
        best = max(met, key=lambda key: (ratios[key], -met.index(key)))
        others = tuple(f"{_INCREMENT_LABELS[k]} {_ratio_text(ratios[k])}" for k in met if k != best)
    return MemberIncrement(
        person_id=member.person_id,
        name=member.name,
        age=age,
        rule=best,
        label=_INCREMENT_LABELS[best],
        ratio=ratios[best],
        amount=ratios[best] * standard,
        also_met=others,
    )


# --- the 低保 amount ---------------------------------------------------------------------------------

DIBAO_STEPS = "dibao"  # explanation["steps_from"]: dibao_steps renders the steps when they are shown
DIBAO_FORMULA = "(低保标准 − 月人均收入) × 保障人数（每人不低于保底）+ 各成员分类施保（取最高一项）"
DIBAO_FORMULA_FLOOR = (
    "(低保标准 − 月人均收入) × 保障人数（每人不低于保底）+ 分类施保对象补足到不低于标准的规定比例"
)


@dataclass
class DibaoAmount:
    """A household's monthly 低保 amount. base = 补差 (with the floor), increment = 分类施保."""

    eligible: bool
    amount: Decimal
    base_amount: Decimal
    increment_amount: Decimal
    covered_persons: int
    per_capita_income: Decimal  # exact
    explanation: dict


def dibao_amount(
    *,
    standard: Decimal,
    income: IncomeSums,
    income_members: int,
    covered: list[MemberFacts],
    on_date: datetime.date,
    parameters: Mapping[str, Decimal],
    rounding: str = Rounding.FEN,
    single_cover: bool = False,
    standard_text: str = "",
) -> DibaoAmount:
    """补差 + 分类施保 for one household (or one 单人保 unit) in one month.

    - per-capita income = max(0, counted − deducted) ÷ income_members, exact;
    - eligible when per-capita income < standard (《社会救助暂行办法》第九条: 低于当地最低生活保障标准);
    - 补差 per covered person = standard − per-capita income, but at least floor_ratio × standard
      (保底, DOMAIN.md "Some cities pay at least 20 % of the standard" — we apply it to the 补差 part of
      each covered person of an eligible household; a floor_ratio of 0 disables it);
    - 分类施保 per covered member = the highest applicable ratio × standard (member_increment);
    - base and increment are each rounded once, ROUND_HALF_UP, to the benefit's unit (分 or 元), and
      the total is their sum, so the roster's parts add up.

    `income`/`income_members` are the household's (whole-household cover) or the covered persons' own
    (单人保: "参照单人户", 民发〔2020〕69号).

    The explanation holds every figure of the computation as display strings, with
    `"steps_from": "dibao"`: `dibao_steps` (through core.benefits.calculators.explanation_steps) turns
    them into the step-by-step sentences when a caseworker opens the line. A city's run stores 90,000
    sets of figures, not 90,000 copies of the same sentences (benchmarks/README.md)."""
    per_capita = income.net / income_members if income_members > 0 else ZERO
    count = len(covered)
    explanation: dict = {
        "steps_from": DIBAO_STEPS,
        "standard_amount": display_money(standard),
        "standard_text": standard_text,
        "counted_income": display_money(income.counted),
        "excluded_income": display_money(income.excluded),
        "deducted_income": display_money(income.deducted),
        "members": income_members,
        "per_capita_income": display_money(per_capita),
        "covered_persons": count,
        "single_cover": single_cover,
    }
    if per_capita != per_capita.quantize(CENT):
        explanation["per_capita_rounded"] = True
        explanation["net_income"] = display_money(income.net)

    if count == 0 or income_members == 0:
        explanation["outcome"] = "no_members"
        return DibaoAmount(False, ZERO, ZERO, ZERO, 0, per_capita, explanation)
    if per_capita >= standard:
        explanation["outcome"] = "above_standard"
        explanation["formula"] = "月人均收入不低于低保标准，不符合低保条件"
        return DibaoAmount(False, ZERO, ZERO, ZERO, 0, per_capita, explanation)

    # 补差. With the whole household covered, covered × (standard − net ÷ members) is computed as
    # covered × standard − net × covered ÷ members so that it stays exact in the usual case.
    gap_total = standard * count - income.net * count / income_members
    gap_each = standard - per_capita
    floor_ratio = parameters[P_FLOOR_RATIO]
    floor_each = floor_ratio * standard
    floor_applied = floor_ratio > 0 and gap_each < floor_each
    base_exact = floor_each * count if floor_applied else gap_total

    mode = parameters[P_CLASSIFIED_MODE]
    if mode not in (CLASSIFIED_ADDITION, CLASSIFIED_FLOOR):
        raise CalculationError(
            f"业务参数「{P_CLASSIFIED_MODE}」的值 {mode} 无效：0 为按标准比例加发，1 为不低于标准的一定比例。"
        )
    floor_mode = mode == CLASSIFIED_FLOOR
    if floor_mode:
        # "not below share × standard" per such member: the member's 补差 share (base_exact ÷ count) is
        # topped up to it; computed as (share × standard × count − base_exact) ÷ count to stay exact.
        share = parameters[P_CLASSIFIED_FLOOR_SHARE]
        topup = max(ZERO, share * standard * count - base_exact) / count

    increments = []
    increment_exact = ZERO
    for member in covered:
        age = member.age(on_date)
        met = _rules_met(member, age)
        if not met:  # most members: no 分类施保 (member_increment, without building its empty result)
            continue
        inc = _increment(member, age, met, standard, parameters)
        entry = {
            "person_id": inc.person_id,
            "name": inc.name,
            "age": inc.age,
            "rule": inc.rule,
            "label": inc.label,
            "ratio": str(inc.ratio),
            "amount": display_money(inc.amount),
            "also_met": list(inc.also_met),
        }
        if floor_mode:
            # Which rule made the member eligible is still named (the highest); the amount is the top-up.
            entry.update(
                {
                    "ratio": str(share),
                    "amount": display_money(topup),
                    "base_each": display_money(base_exact / count),
                    "also_met": [_INCREMENT_LABELS[k] for k in met if k != inc.rule],
                }
            )
            increment_exact += topup
        else:
            increment_exact += inc.amount
        increments.append(entry)

    base = round_amount(base_exact, rounding)
    increment = round_amount(increment_exact, rounding)
    total = base + increment
    explanation.update(
        {
            "formula": DIBAO_FORMULA_FLOOR if floor_mode else DIBAO_FORMULA,
            "gap": display_money(gap_total),
            "gap_each": display_money(gap_each),
            "floor_ratio": str(floor_ratio),
            "floor_each": display_money(floor_each),
            "classified_mode": "floor" if floor_mode else "addition",
            "floor_applied": floor_applied,
            "base_exact": _exact_text(base_exact),
            "increment_exact": _exact_text(increment_exact),
            "rounding_unit": "元" if rounding == Rounding.YUAN else "分",
            "base": f"{base:.2f}",
            "increments": increments,
            "increment": f"{increment:.2f}",
            "total": f"{total:.2f}",
        }
    )
    if floor_applied:
        explanation["floor_total"] = display_money(base_exact)
    return DibaoAmount(True, total, base, increment, count, per_capita, explanation)


@register_steps(DIBAO_STEPS)
def dibao_steps(e: Mapping) -> list[list[str]]:
    """The step-by-step explanation of a 低保 amount, in the order of the computation, from the figures
    dibao_amount stored (every value here is a stored string: nothing is recomputed)."""
    std = e["standard_amount"]
    counted, deducted, members = e["counted_income"], e["deducted_income"], e["members"]
    per_capita = e["per_capita_income"]
    steps = [["低保标准", f"{std} 元/月{e.get('standard_text', '')}"]]
    if e.get("basis_label"):
        # The decision whose income and members the amount rests on (assistance.bases).
        start = datetime.date.fromisoformat(e["basis_from"])
        number = e.get("basis_case_number")
        steps.append(
            [
                "核定依据",
                f"{e['basis_label']}{f'（{number}）' if number else ''}核定，{start.year}年{start.month}月起执行；"
                "此后金额仅随低保标准调整、保障对象死亡和年龄变化而变动，收入或人员变化须经复核决定",
            ]
        )
    if e.get("change_cause"):
        steps.append(["本月变动原因", e["change_cause"]])
    steps.append(["计入收入", f"{counted} 元/月"])
    if Decimal(e.get("excluded_income") or "0"):
        steps.append(["不计入收入（优待抚恤金、基础养老金、奖励扶助等）", f"{e['excluded_income']} 元/月"])
    if Decimal(deducted or "0"):
        steps.append(["扣减（个人缴纳社保费、个税、就业成本）", f"{deducted} 元/月"])
    unit = "单人保保障对象（参照单人户）" if e.get("single_cover") else "家庭共同生活成员"
    steps.append([unit, f"{members} 人"])
    exact_note = "（显示保留两位小数，计算使用精确值）" if e.get("per_capita_rounded") else ""
    steps.append(["月人均收入", f"({counted} − {deducted}) ÷ {members} = {per_capita} 元{exact_note}"])
    outcome = e.get("outcome")
    if outcome == "no_members":
        return [*steps, ["结论", "无在世的保障对象，本月不发放"]]
    if outcome == "above_standard":
        return [*steps, ["结论", f"月人均收入 {per_capita} 元不低于低保标准 {std} 元，本月不发放"]]

    count = e["covered_persons"]
    steps.append(["保障人数", f"{count} 人"])
    gap_text = f"({std} − {per_capita}) × {count}"
    if exact_note and count == members:
        # The displayed per capita is rounded; show the exact form so the line adds up by hand.
        gap_text += f"，即 {std} × {count} − {e['net_income']}"
    steps.append(["补差", f"{gap_text} = {e['gap']} 元"])
    floor_ratio = Decimal(e.get("floor_ratio") or "0")
    if floor_ratio > 0:
        floor = f"{std} × {_ratio_text(floor_ratio)} = {e['floor_each']} 元"
        if e.get("floor_applied"):
            steps.append(
                [
                    "保底",
                    f"每人补差 {e['gap_each']} 元低于保底 {floor}，按保底发放：{e['floor_each']} × {count}"
                    f" = {e['floor_total']} 元",
                ]
            )
        else:
            steps.append(["保底", f"每人补差不低于保底 {floor}，不适用"])
    else:
        steps.append(["保底", "未设保底（保底比例为0）"])
    increments = e.get("increments") or []
    floor_mode = e.get("classified_mode") == "floor"
    for inc in increments:
        if floor_mode:
            also = f"；同时符合{'、'.join(inc['also_met'])}" if inc.get("also_met") else ""
            share = _ratio_text(Decimal(inc["ratio"]))
            text = (
                f"{inc['label']}{also}：不低于标准的 {share}，每人补差 {inc['base_each']} 元，"
                f"补足 {inc['amount']} 元"
            )
        else:
            also = f"；同时符合{'、'.join(inc['also_met'])}，取最高一项" if inc.get("also_met") else ""
            text = f"{inc['label']}：{std} × {_ratio_text(Decimal(inc['ratio']))} = {inc['amount']} 元{also}"
        steps.append([f"分类施保：{inc['name']}（{inc['age']}岁）", text])
    if not increments:
        steps.append(["分类施保", "无成员符合分类施保条件"])
    base, increment, total = e["base"], e["increment"], e["total"]
    steps.append(
        [
            "舍入",
            f"四舍五入到{e['rounding_unit']}：补差 {e['base_exact']} → {base}，"
            f"分类施保 {e['increment_exact']} → {increment}",
        ]
    )
    steps.append(["合计", f"{base} + {increment} = {total} 元"])
    return steps


# --- category assessment (一次申请、一次性确认) ------------------------------------------------------------


@dataclass(frozen=True)
class CategoryAssessment:
    """Whether an application fits a category. fits: True / False / None (cannot tell: inputs missing)."""

    code: str
    label: str
    fits: bool | None
    reason: str
    person_ids: tuple[int, ...] = ()
    # The 财产 limits the household exceeds when they are why it does not fit (assistance.asset_limits).
    limits: tuple[str, ...] = ()


def assess_categories(
    household,
    members: Iterable[Person | MemberFacts],
    on_date: datetime.date,
    *,
    rigid_spending_12m: Decimal | None = None,
    last_year_disposable_income: Decimal | None = None,
) -> list[CategoryAssessment]:
    """Assess one application for every category it might fit (Seed 003 "一次申请、一次性确认"):
    低保, 低保边缘, 特困 (per member), 刚性支出困难. Income and family size are the household's on `on_date`;
    `members` are the people the application lists (the dead are skipped).

    The household's recorded assets are checked against the 财产 limits on `on_date`
    (assistance.asset_limits): a household over a limit fits neither 低保, 低保边缘 nor 特困, and the reason
    names the limit with its figures. Legal supporters are checked by the caseworker's investigation, not
    here; the reasons say so. `last_year_disposable_income` is the local per-capita disposable income of
    last year (元/年), `rigid_spending_12m` the household's rigid spending of the past 12 months (元)."""
    from core.benefits.models import BenefitType
    from core.benefits.selectors import parameters_in_force, standard_in_force

    living = [
        m if isinstance(m, MemberFacts) else MemberFacts.from_person(m)
        for m in members
        if (m.death_date is None or m.death_date > on_date)
    ]
    facts = household_income_facts([household.pk], on_date, members_by_household={household.pk: living})[
        household.pk
    ]
    dibao_type = BenefitType.objects.get(code="dibao")
    standard = standard_in_force(dibao_type, household.area_type, "", on_date).amount
    params = parameters_in_force(ASSESSMENT_PARAMETERS + ASSET_PARAMETERS, on_date)
    per_capita = facts.per_capita
    pc = display_money(per_capita)
    std = display_money(standard)
    edge_limit = params[P_EDGE_RATIO] * standard
    assets = asset_limits_check(
        [household],
        on_date,
        member_counts={household.pk: facts.members},
        standards={household.area_type: standard},
        params=params,
    )[household.pk]
    over = tuple(assets.texts)
    results: list[CategoryAssessment] = []

    if not living:
        return [CategoryAssessment("dibao", "最低生活保障", False, "申请家庭无在世成员")]

    # 低保 — 《社会救助暂行办法》第九条: per-capita income below the local standard and assets within the
    # local limits (民发〔2021〕57号 第十一条).
    income_below = per_capita < standard
    is_dibao = income_below and assets.within
    dibao_reason = f"家庭月人均收入 {pc} 元{'低于' if income_below else '不低于'}低保标准 {std} 元"
    if income_below:
        dibao_reason += f"；{assets.summary}" if assets.within else f"，但{assets.summary}，不符合低保条件"
    results.append(
        CategoryAssessment("dibao", "最低生活保障", is_dibao, dibao_reason, limits=() if is_dibao else over)
    )

    # 低保边缘 — standard ≤ per-capita income ≤ edge_ratio × standard (DOMAIN.md; 民发〔2021〕57号 edge
    # households "不超过当地低保标准的1.5倍", the multiple being local).
    income_edge = standard <= per_capita <= edge_limit
    is_edge = income_edge and assets.within
    edge_text = f"{std} × {params[P_EDGE_RATIO].normalize():f} = {display_money(edge_limit)}"
    if income_edge and not assets.within:
        edge_reason = f"家庭月人均收入 {pc} 元在低保标准 {std} 元与 {edge_text} 元之间，但{assets.summary}"
    elif income_below and not assets.within:
        edge_reason = f"家庭月人均收入低于低保标准，但{assets.summary}"
    elif is_edge:
        edge_reason = f"家庭月人均收入 {pc} 元在低保标准 {std} 元与 {edge_text} 元之间"
        single = [m for m in living if m.single_cover_condition]
        if single:
            names = "、".join(m.name for m in single)
            edge_reason += f"；{names}可申请单人保（重度残疾或重病）"
    elif per_capita < standard:
        edge_reason = "家庭月人均收入低于低保标准，按低保认定"
    else:
        edge_reason = f"家庭月人均收入 {pc} 元高于 {edge_text} 元"
    results.append(
        CategoryAssessment(
            "dibao_edge",
            "低保边缘家庭",
            is_edge,
            edge_reason,
            tuple(m.person_id for m in living if is_edge and m.single_cover_condition),
            limits=over if (income_below or income_edge) and not assets.within else (),
        )
    )

    # 特困 — 民发〔2021〕43号 第六条 (无劳动能力) and 第七条 (无生活来源: income below the 低保 standard). The
    # household's per-capita income stands in for the member's income and the supporters' ability alike;
    # 法定赡养、抚养、扶养义务人 are verified in the investigation.
    minor_age = int(params[P_TEKUN_MINOR_AGE])
    unable = [(m, m.unable_to_work(on_date, minor_age)) for m in living]
    unable = [(m, why) for m, why in unable if why]
    if not unable:
        tekun_fits, tekun_reason = False, "无符合无劳动能力条件的成员"
    elif per_capita >= standard:
        tekun_fits = False
        tekun_reason = f"有无劳动能力成员，但家庭月人均收入 {pc} 元不低于低保标准 {std} 元，不属于无生活来源"
    elif not assets.within:
        # 民发〔2021〕43号 第七条: 无生活来源 includes assets within the local limits of 低保.
        tekun_fits = False
        tekun_reason = f"有无劳动能力成员，但{assets.summary}，不属于无生活来源"
    else:
        tekun_fits = True
        listed = "、".join(f"{m.name}（{why}）" for m, why in unable)
        tekun_reason = f"{listed}无劳动能力，家庭月人均收入 {pc} 元低于低保标准 {std} 元；须核实无法定义务人或义务人无履行能力"
    results.append(
        CategoryAssessment(
            "tekun",
            "特困人员",
            tekun_fits,
            tekun_reason,
            tuple(m.person_id for m, _ in unable) if tekun_fits else (),
            limits=over if unable and income_below and not assets.within else (),
        )
    )

    # 刚性支出困难 (2024): none of the above, per-capita income below last year's local per-capita
    # disposable income, rigid spending of 12 months above a local share of the household's income.
    share = params[P_RIGID_SPENDING_SHARE]
    if is_dibao or is_edge or tekun_fits:
        rigid = CategoryAssessment("rigid", "刚性支出困难家庭", False, "已符合低保、低保边缘或特困条件")
    elif rigid_spending_12m is None or last_year_disposable_income is None:
        rigid = CategoryAssessment(
            "rigid", "刚性支出困难家庭", None, "缺少近12个月刚性支出或上年度当地人均可支配收入，无法判断"
        )
    else:
        annual_per_capita = per_capita * 12
        annual_income = facts.net * 12
        threshold = share * annual_income
        below_income = annual_per_capita < last_year_disposable_income
        above_spending = rigid_spending_12m > threshold
        reason = (
            f"家庭年人均收入 {display_money(annual_per_capita)} 元"
            f"{'低于' if below_income else '不低于'}上年度当地人均可支配收入 "
            f"{display_money(last_year_disposable_income)} 元；近12个月刚性支出 "
            f"{display_money(rigid_spending_12m)} 元{'超过' if above_spending else '未超过'}家庭年收入 "
            f"{display_money(annual_income)} 元的 {_ratio_text(share)}（{display_money(threshold)} 元）"
        )
        rigid = CategoryAssessment("rigid", "刚性支出困难家庭", below_income and above_spending, reason)
    results.append(rigid)
    return results


# --- 特困 self-care tier ------------------------------------------------------------------------------

# 民发〔2021〕43号 附件《特困人员生活自理能力评估表》: six activities of daily living.
SELF_CARE_ITEMS = {
    "eat": "自主吃饭",
    "dress": "自主穿衣",
    "bed": "自主上下床",
    "toilet": "自主如厕",
    "walk": "室内自主行走",
    "bathe": "自主洗澡",
}
TIER_FULL_SELF_CARE = "全自理"
TIER_PARTIAL_CARE = "半护理"
TIER_FULL_CARE = "全护理"
CARE_TIERS = (TIER_FULL_SELF_CARE, TIER_PARTIAL_CARE, TIER_FULL_CARE)


def self_care_tier(six_items: Mapping[str, bool]) -> str:
    """The care tier from the six-item assessment (True = can do it alone): all six possible → 全自理;
    1–3 impossible → 半护理 (部分丧失生活自理能力); 4–6 impossible → 全护理 (完全丧失). Raises ValueError
    unless exactly the six items are given."""
    if set(six_items) != set(SELF_CARE_ITEMS):
        missing = [SELF_CARE_ITEMS[k] for k in SELF_CARE_ITEMS if k not in six_items]
        extra = sorted(set(six_items) - set(SELF_CARE_ITEMS))
        raise ValueError(
            f"自理能力评估须填写全部六项（缺少：{'、'.join(missing) or '无'}；多余：{extra or '无'}）"
        )
    impossible = sum(1 for can_do in six_items.values() if not can_do)
    if impossible == 0:
        return TIER_FULL_SELF_CARE
    if impossible <= 3:
        return TIER_PARTIAL_CARE
    return TIER_FULL_CARE
