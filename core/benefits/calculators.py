"""The calculator registry bureau apps plug into. The engine knows no benefit by name.

A bureau app registers one Calculator subclass per benefit type code, e.g. in its AppConfig.ready()
(or in a module imported from it):

    from core.benefits.calculators import Calculator, LineResult, register_calculator

    @register_calculator("dibao")
    class DibaoCalculator(Calculator):
        label = "低保补差"

        def load_facts(self, entitlement_rows, month):
            # ONE (or a few) aggregate queries for all rows — never a query per entitlement.
            ...

        def compute(self, row, facts, standards, month):
            standard = standards.require(self.benefit_type.name, row["area_type"], "")
            ...
            return LineResult(amount=..., base_amount=..., explanation={...})

The engine calls `load_facts` once per month it computes (the run's month, and each locked month it
re-checks for 补发/扣回) and per part of the run it reads at a time (a chunk of BENEFITS_RUN_CHUNK
entitlement ids, or a street on a Celery worker), then `compute` for every entitlement row of that part
and month, in memory. Locked months are re-checked only for the entitlements whose inputs changed
since they were calculated: a calculator that loads facts of its own says which rows those facts moved
(`changed_since`; without it, every row of every locked month is recomputed).

`explanation` is shown to caseworkers: give a Chinese `formula` sentence and `steps`, a list of
[label, value] pairs in the order of the computation (standard, per-capita income, members, base, each
increment with its rule, floor, rounding, total). Values must be JSON-serialisable with Django's
DjangoJSONEncoder (Decimals and dates are stored as strings); prefer preformatted strings ("600.00").

A calculator whose steps are long sentences repeated on every line may store only the figures and
`"steps_from": "<name>"`, with a renderer registered by `@register_steps("<name>")` that builds the
steps from those figures when the explanation is shown (`explanation_steps`, used by every template
that shows one). The 低保 calculator does: its sentences were 80 % of a 90,000-line run's stored bytes.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .exceptions import CalculatorNotRegistered
from .models import BenefitType, Rounding
from .selectors import StandardsInForce

CENT = Decimal("0.01")
ROUNDING_QUANTUM = {Rounding.FEN: CENT, Rounding.YUAN: Decimal("1")}
ZERO = Decimal("0")


def round_amount(value: Decimal | int | str, rounding: str = Rounding.FEN) -> Decimal:
    """ROUND_HALF_UP to the unit the benefit's standard says (分 or 元); always two decimal places."""
    if not isinstance(value, Decimal):
        value = Decimal(value)
    if rounding == Rounding.YUAN:
        return value.quantize(ROUNDING_QUANTUM[Rounding.YUAN], ROUND_HALF_UP).quantize(CENT)
    return value.quantize(CENT, ROUND_HALF_UP)


@dataclass
class LineResult:
    """What a calculator says one entitlement is owed for one month.

    amount must equal base_amount + increment_amount + other_amount after rounding (the roster's total
    is the sum of its parts). An amount of zero means nothing is paid this month (no line is written;
    if the previous month was paid, the line becomes a 停发 marker)."""

    amount: Decimal
    base_amount: Decimal = ZERO
    increment_amount: Decimal = ZERO
    other_amount: Decimal = ZERO
    covered_persons: int = 1
    explanation: dict[str, Any] = field(default_factory=dict)


class Calculator:
    """Base class of every benefit calculator. One instance per benefit type and recalculation."""

    #: Shown in the explanation, e.g. "低保补差".
    label: str = ""

    def __init__(self, benefit_type: BenefitType):
        self.benefit_type = benefit_type
        self._rounding = benefit_type.rounding

    def round(self, value: Decimal | int | str) -> Decimal:
        if type(value) is Decimal and self._rounding == Rounding.FEN:
            # round_amount's usual case without its second call: the engine rounds four amounts a line.
            return value.quantize(CENT, ROUND_HALF_UP)
        return round_amount(value, self._rounding)

    def load_facts(self, entitlement_rows: list[dict], month: datetime.date) -> dict:
        """Facts every row of `month` needs (member counts, incomes …), in one or a few aggregate queries."""
        return {}

    def load_facts_by_month(
        self, rows_by_month: dict[datetime.date, list[dict]]
    ) -> dict[datetime.date, dict]:
        """Facts for several months at once (re-checking locked months). Override to use one query for all
        months; the default calls load_facts once per month (at most 13 calls, never once per row)."""
        return {month: self.load_facts(rows, month) for month, rows in rows_by_month.items() if rows}

    def changed_since(
        self, rows: list[dict], since: datetime.datetime
    ) -> set[int] | Mapping[int, datetime.datetime] | None:
        """Which of `rows` (entitlement rows of the locked months being re-checked) may be owed another
        amount because a fact this calculator reads — beyond the entitlement row itself, the type's
        standards and its rounding, which the engine follows — changed after `since`: a set of entitlement
        ids, or {id: when its facts last changed} (the engine then compares with each locked month's own
        time), or None = "I cannot tell": every entitlement of every locked month is re-checked (the safe
        default). One or a few queries for all rows, like load_facts."""
        return None

    def prepare_loaded(self, entitlements, month: datetime.date) -> None:
        """Entitlements loaded in bulk without their case (`generate_city`): fix now whatever a decision
        would have fixed and `compute` reads (the 低保 calculator fixes its amount basis from the facts
        recorded, read on `month`). `entitlements` is a queryset of this type's new entitlements. Default:
        nothing to fix. On PostgreSQL it runs inside the load, where foreign-key checks may be off
        (session_replication_role = replica): change the entitlements' decided facts, never their
        foreign keys."""

    def compute(
        self, row: dict, facts: dict, standards: StandardsInForce, month: datetime.date
    ) -> LineResult | None:
        """The amount for one entitlement row in one month, computed in memory from `facts` — never a
        query here: it would run once per row, and wait each time for the engine's writer to finish the
        COPY it is sending on the same connection. None = nothing payable."""
        raise NotImplementedError


_CALCULATORS: dict[str, type[Calculator]] = {}


def register_calculator(benefit_type_code: str) -> Callable[[type[Calculator]], type[Calculator]]:
    """Class decorator: `@register_calculator("gaoling")` registers the calculator of a benefit type."""

    def decorator(cls: type[Calculator]) -> type[Calculator]:
        if not (isinstance(cls, type) and issubclass(cls, Calculator)):
            raise TypeError(f"{cls!r} is not a Calculator subclass")
        _CALCULATORS[benefit_type_code] = cls
        return cls

    return decorator


_STEP_RENDERERS: dict[str, Callable[[Mapping], list]] = {}


def register_steps(name: str) -> Callable:
    """Function decorator: `@register_steps("dibao")` renders the steps of explanations stored with
    `"steps_from": "dibao"` (a function of the explanation dict returning [[label, value], ...])."""

    def decorator(function: Callable[[Mapping], list]) -> Callable[[Mapping], list]:
        _STEP_RENDERERS[name] = function
        return function

    return decorator


def explanation_steps(explanation: Any) -> list[list[str]]:
    """The [label, value] steps of an explanation: stored ones, or rendered from its figures by the
    renderer its `steps_from` names. [] when there are none (or the renderer is not registered)."""
    if not isinstance(explanation, Mapping):
        return []
    if explanation.get("steps"):
        return list(explanation["steps"])
    renderer = _STEP_RENDERERS.get(explanation.get("steps_from") or "")
    return renderer(explanation) if renderer else []


def calculator_class(benefit_type_code: str) -> type[Calculator] | None:
    return _CALCULATORS.get(benefit_type_code)


def registered_codes() -> list[str]:
    return sorted(_CALCULATORS)


def get_calculator(benefit_type: BenefitType) -> Calculator:
    cls = _CALCULATORS.get(benefit_type.code)
    if cls is None:
        raise CalculatorNotRegistered(
            f"待遇类型「{benefit_type.name}」（{benefit_type.code}）没有登记计算规则，无法计算发放批次。"
        )
    return cls(benefit_type)


class FixedStandardCalculator(Calculator):
    """A fixed amount per month: the Standard for (benefit type, urban/rural, tier).

    The tier comes from `entitlement.params["tier"]` ("" when the benefit has no tiers); covered persons
    from `params["covered_persons"]` (default 1). Bureau apps reuse it by subclassing and registering:

        @register_calculator("gaoling")
        class GaolingCalculator(FixedStandardCalculator):
            label = "高龄津贴"
    """

    label = "按标准定额发放"

    def changed_since(
        self, rows: list[dict], since: datetime.datetime
    ) -> set[int] | Mapping[int, datetime.datetime] | None:
        # Only the row's params and the standards move a fixed amount, both followed by the engine — unless
        # a subclass loads facts of its own (an age, a death): then it must say itself what changed.
        own_facts = type(self).load_facts is not Calculator.load_facts or (
            type(self).load_facts_by_month is not Calculator.load_facts_by_month
        )
        return None if own_facts else set()

    def compute(
        self, row: dict, facts: dict, standards: StandardsInForce, month: datetime.date
    ) -> LineResult | None:
        return self.fixed_amount(row, str((row.get("params") or {}).get("tier", "")), standards)

    def fixed_amount(self, row: dict, tier: str, standards: StandardsInForce) -> LineResult:
        """The line of a row at the standard of `tier` (a subclass that works the tier out calls this)."""
        standard = standards.require(self.benefit_type.name, row["area_type"], tier)
        # The same amount and explanation for every row of a standard: built once per standard and tier,
        # handed out as a shallow copy so that a caller adding keys to one line's explanation (the engine,
        # a subclass) never changes the next line's.
        cache = self.__dict__.setdefault("_fixed_cache", {})
        key = (standard.id, tier)
        if key not in cache:
            amount = self.round(standard.amount)
            steps = [["待遇标准", f"{standard.amount:.2f}"]]
            if tier:
                steps.insert(0, ["档次", tier])
            steps.append(["发放金额", f"{amount:.2f}"])
            cache[key] = (
                amount,
                {
                    "formula": f"按{standard.effective_from.year}年{standard.effective_from.month}月起执行的标准定额发放",
                    "steps": steps,
                    **standard.as_explanation(),
                    "tier": tier,
                },
            )
        amount, explanation = cache[key]
        return LineResult(
            amount=amount,
            base_amount=amount,
            covered_persons=int((row.get("params") or {}).get("covered_persons", 1)),
            explanation=dict(explanation),
        )
