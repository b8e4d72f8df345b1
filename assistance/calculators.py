"""Calculators of the 社会救助 benefit types, registered with the benefits engine (core.benefits).

Imported by AssistanceConfig.ready(). The rules themselves live in assistance.rules, shared with the
application assessment; this module only loads the facts set-based and turns rules into LineResults.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from core.benefits.calculators import (
    Calculator,
    FixedStandardCalculator,
    LineResult,
    register_calculator,
)
from core.benefits.exceptions import CalculationError
from core.benefits.selectors import StandardsInForce, parameters_in_force
from core.registry.choices import AreaType

from . import bases, rules

_AREA_LABELS = dict(AreaType.choices)


def _household_id(row: dict) -> int | None:
    return row.get("household_id") or row.get("person_household_id")


def _taper(row: dict, month: datetime.date) -> tuple[datetime.date, Decimal] | None:
    """(last taper month, monthly amount) when a 渐退期 granted by a dynamic review covers `month`
    (params "taper_until" "YYYY-MM-01" and "taper_amount"), else None."""
    params = row.get("params") or {}
    if not params.get("taper_until"):
        return None
    try:
        until = datetime.date.fromisoformat(str(params["taper_until"]))
        amount = Decimal(str(params["taper_amount"]))
    except (KeyError, ValueError, InvalidOperation) as exc:
        raise CalculationError(f"低保待遇资格 #{row['id']} 的渐退期参数格式不正确。") from exc
    if month > until:
        return None
    return until, amount


@register_calculator("dibao")
class DibaoCalculator(Calculator):
    """最低生活保障: (standard − per-capita income) × covered members, floor, plus 分类施保 (rules.dibao_amount),
    on the basis the last decision fixed (assistance.bases): its income, its covered members and their
    disability and illness. The standard in force, the members' deaths and their ages on the first day of
    the month are read month by month — nothing else moves the amount between decisions.

    A member who dies during a month still counts for that month and drops out the next."""

    label = "低保补差"

    def _bases(self, row: dict) -> list[bases.Basis]:
        # Parsed once per entitlement and recalculation: a locked-month re-check reads them 13 times.
        cache = self.__dict__.setdefault("_bases_cache", {})
        if row["id"] not in cache:
            cache[row["id"]] = bases.bases_of(row)
        return cache[row["id"]]

    def load_facts(self, entitlement_rows: list[dict], month: datetime.date) -> dict:
        return self.load_facts_by_month({month: entitlement_rows})[month]

    def load_facts_by_month(
        self, rows_by_month: dict[datetime.date, list[dict]]
    ) -> dict[datetime.date, dict]:
        # One query for the covered persons of every month (their names, births and deaths: who is alive
        # is decided month by month in memory), and the parameters of each month.
        person_ids: set[int] = set()
        for month, rows in rows_by_month.items():
            for row in rows:
                basis = bases.basis_in_force(self._bases(row), month)
                if basis is not None:
                    person_ids.update(basis.covered)
        persons = bases.members_by_id(person_ids)
        memo: dict = {}  # shared by the months: see compute()
        facts = {}
        for month, rows in rows_by_month.items():
            if not rows:
                continue
            parameters = parameters_in_force(rules.DIBAO_AMOUNT_PARAMETERS, month)
            facts[month] = {
                "persons": persons,
                "parameters": parameters,
                "memo": memo,
                "parameters_key": tuple(sorted(parameters.items())),
            }
        return facts

    def changed_since(
        self, rows: list[dict], since: datetime.datetime
    ) -> dict[int, datetime.datetime] | None:
        """{entitlement id: when one of its covered persons (in any of its bases) last changed} for the
        persons changed after `since` — a death recorded, a birth date corrected (the ages on the first
        of a month follow from it; they need no re-check otherwise) — one query by person id. None (re-check
        all) when a parameter of the amount changed after `since`."""
        from core.benefits.models import Parameter
        from core.registry.models import Person

        if Parameter.objects.filter(key__in=rules.DIBAO_AMOUNT_PARAMETERS, updated_at__gt=since).exists():
            return None
        by_person: dict[int, list[int]] = {}
        for row in rows:
            for basis in self._bases(row):
                for person_id in basis.covered:
                    by_person.setdefault(person_id, []).append(row["id"])
        if not by_person:
            return {}
        changed: dict[int, datetime.datetime] = {}
        for person_id, updated_at in (
            Person.objects.filter(pk__any_of=sorted(by_person), updated_at__gt=since)
            .order_by()
            .values_list("pk", "updated_at")
        ):
            for entitlement_id in by_person[person_id]:
                if entitlement_id not in changed or changed[entitlement_id] < updated_at:
                    changed[entitlement_id] = updated_at
        return changed

    def prepare_loaded(self, entitlements, month: datetime.date) -> None:
        # As if each had been confirmed on the facts recorded now (assistance.bases.freeze_missing).
        bases.freeze_missing(entitlements.model, entitlements, month, label=bases.LABEL_APPROVAL)

    def compute(
        self, row: dict, facts: dict, standards: StandardsInForce, month: datetime.date
    ) -> LineResult | None:
        household_id = _household_id(row)
        if household_id is None:
            raise CalculationError(f"低保待遇资格 #{row['id']} 未关联家庭，无法计算。")
        standard = standards.require(self.benefit_type.name, row["area_type"], "")
        basis = bases.basis_in_force(self._bases(row), month)
        if basis is None:
            raise CalculationError(
                f"低保待遇资格 #{row['id']} 在{month.year}年{month.month}月没有核定金额的决定"
                "（审批确认或复核决定），无法计算。"
            )
        covered = bases.covered_with_conditions(basis, facts["persons"], month)
        taper = _taper(row, month)
        if taper is not None:
            # 渐退期: income rose above the line through work; the review fixed the amount paid until the
            # taper ends (DOMAIN.md "Dynamic management"), whatever the income now gives.
            until, amount = taper
            amount = self.round(amount)
            return LineResult(
                amount=amount,
                base_amount=amount,
                covered_persons=len(covered),
                explanation={
                    **standard.as_explanation(),
                    "formula": f"渐退期内按复核确定的金额发放，至{until.year}年{until.month}月止",
                    "steps": [
                        ["渐退期发放金额", f"{amount:.2f} 元/月"],
                        ["渐退期截止月份", f"{until.year}年{until.month}月"],
                    ],
                    "taper_until": until.isoformat(),
                },
            )
        # The same entitlement's amount in several months of one recalculation — a 提标 re-checks three
        # locked months of every household, and the month itself follows — comes out the same whenever
        # what dibao_amount reads is the same: the basis, the standard, the parameters, the members
        # covered and their ages on the first of the month. `facts["memo"]` (one per load_facts_by_month,
        # shared by its months; its keys' objects live as long as it) keeps the result by those — an age
        # only where it counts (rules.age_that_counts) — and the month's own facts (its change cause) are
        # added after. Hand-built facts have no memo.
        memo = facts.get("memo")
        key = None
        if memo is not None:
            key = (
                row["id"],
                id(basis),
                standard.id,
                standard.amount,
                facts["parameters_key"],
                tuple([(member.person_id, rules.age_that_counts(member, month)) for member in covered]),
            )
            kept = memo.get(key)
        else:
            kept = None
        if kept is None:
            result = rules.dibao_amount(
                standard=standard.amount,
                income=basis.income,
                income_members=basis.members,
                covered=covered,
                on_date=month,
                parameters=facts["parameters"],
                rounding=self.benefit_type.rounding,
                single_cover=basis.single,
                standard_text=self._standard_text(standard, row["area_type"]),
            )
            kept = (
                (
                    result.amount,
                    result.base_amount,
                    result.increment_amount,
                    result.covered_persons,
                    {**self._standard_facts(standard), **result.explanation, **self._basis_facts(basis)},
                )
                if result.eligible
                else ()
            )
            if key is not None:
                memo[key] = kept
        if not kept:
            return None
        amount, base_amount, increment_amount, covered_persons, explanation = kept
        explanation = dict(explanation)  # the kept one is shared by the months: never handed out
        if standard.effective_from.year == month.year and standard.effective_from.month == month.month:
            explanation["change_cause"] = "低保标准调整（提标）"
        elif basis.start == month and len(self._bases(row)) > 1:
            number = f"（{basis.case_number}）" if basis.case_number else ""
            explanation["change_cause"] = f"自本月起执行{basis.label}决定{number}"
        return LineResult(
            amount=amount,
            base_amount=base_amount,
            increment_amount=increment_amount,
            covered_persons=covered_persons,
            explanation=explanation,
        )

    def _basis_facts(self, basis: bases.Basis) -> dict:
        return {
            "basis_from": basis.start.isoformat(),
            "basis_label": basis.label,
            "basis_case_number": basis.case_number,
        }

    # Per standard, not per row: the same few texts serve 90,000 households.
    def _standard_text(self, standard, area_type: str) -> str:
        cache = self.__dict__.setdefault("_standard_texts", {})
        key = (standard.id, area_type)
        if key not in cache:
            area = _AREA_LABELS.get(area_type, "")
            start = standard.effective_from
            cache[key] = f"（{area}，{start.year}年{start.month}月{start.day}日起执行）"
        return cache[key]

    def _standard_facts(self, standard) -> dict:
        cache = self.__dict__.setdefault("_standard_facts_cache", {})
        if standard.id not in cache:
            cache[standard.id] = standard.as_explanation()
        return cache[standard.id]


class _TieredStandardCalculator(FixedStandardCalculator):
    """A FixedStandardCalculator whose params["tier"] must be one of `tiers` (a clear error otherwise)."""

    tiers: tuple[str, ...] = ()

    def tier_of(self, row: dict) -> str:
        return str((row.get("params") or {}).get("tier", ""))

    def compute(
        self, row: dict, facts: dict, standards: StandardsInForce, month: datetime.date
    ) -> LineResult | None:
        tier = self.tier_of(row)
        if tier not in self.tiers:
            raise CalculationError(
                f"{self.benefit_type.name}待遇资格 #{row['id']} 的档次「{tier or '未填写'}」无效，"
                f"应为：{'、'.join(self.tiers)}。"
            )
        return self.fixed_amount(row, tier, standards)


@register_calculator("tekun_basic")
class TekunBasicCalculator(_TieredStandardCalculator):
    """特困人员基本生活费: the urban/rural standard of the support mode (集中供养 / 分散供养), 民发〔2021〕43号."""

    label = "特困人员基本生活费"
    tiers = ("集中供养", "分散供养")


def tekun_care_tiers(row: dict) -> list[tuple[datetime.date, str, str]]:
    """The dated care tiers decided after approval (params["tiers"]: [{"from": "YYYY-MM-01", "tier": …,
    "case": …}], written by a re-assessment decision, assistance.tekun.lifecycle), oldest first."""
    dated = []
    for entry in (row.get("params") or {}).get("tiers") or []:
        try:
            dated.append(
                (
                    datetime.date.fromisoformat(str(entry["from"])),
                    str(entry["tier"]),
                    str(entry.get("case", "")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalculationError(
                f"特困人员照料护理费待遇资格 #{row['id']} 的档次调整记录格式不正确。"
            ) from exc
    return sorted(dated)


@register_calculator("tekun_care")
class TekunCareCalculator(_TieredStandardCalculator):
    """特困人员照料护理费 by self-care tier: params["tier"], or derived from params["self_care_items"]
    (the six-item assessment, rules.self_care_tier), as decided at approval; from the month a re-assessment
    decision names, the tier it decided (params["tiers"], dated — never an edit of the approval's tier).
    Paid as its own line (Seed 003)."""

    label = "特困人员照料护理费"
    tiers = rules.CARE_TIERS

    def tier_of(self, row: dict) -> str:
        params = row.get("params") or {}
        if params.get("tier"):
            return str(params["tier"])
        items = params.get("self_care_items")
        if items:
            try:
                return rules.self_care_tier(items)
            except ValueError as exc:
                raise CalculationError(f"待遇资格 #{row['id']}：{exc}") from exc
        return ""

    def compute(
        self, row: dict, facts: dict, standards: StandardsInForce, month: datetime.date
    ) -> LineResult | None:
        decided = [entry for entry in tekun_care_tiers(row) if entry[0] <= month]
        if not decided:
            return super().compute(row, facts, standards, month)
        start, tier, case = decided[-1]
        if tier not in self.tiers:
            raise CalculationError(
                f"{self.benefit_type.name}待遇资格 #{row['id']} 的档次「{tier}」无效，应为：{'、'.join(self.tiers)}。"
            )
        line = self.fixed_amount(row, tier, standards)
        line.explanation["tier_from"] = start.isoformat()
        if start == month:
            line.explanation["change_cause"] = f"生活自理能力重新评估，照料护理档次调整为{tier}" + (
                f"（{case}）" if case else ""
            )
        return line


@register_calculator("disability_living")
class DisabilityLivingCalculator(FixedStandardCalculator):
    """困难残疾人生活补贴 (国发〔2015〕52号): a fixed monthly amount."""

    label = "困难残疾人生活补贴"


@register_calculator("disability_care")
class DisabilityCareCalculator(_TieredStandardCalculator):
    """重度残疾人护理补贴 (国发〔2015〕52号): by disability grade, params["tier"] 一级 / 二级."""

    label = "重度残疾人护理补贴"
    tiers = ("一级", "二级")
