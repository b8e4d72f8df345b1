"""The 临时救助 calculator: a one-off amount fixed by the approval (params["amount"]), not a monthly rule.

temp_assistance is not a monthly benefit (BenefitType.is_monthly = False), so no monthly run ever reads
it; the approval service asks this calculator for the line it writes into the month's one-off run, so the
line and its explanation come from the same registry every other benefit uses."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from core.benefits.calculators import Calculator, LineResult, register_calculator
from core.benefits.exceptions import CalculationError
from core.benefits.selectors import StandardsInForce


@register_calculator("temp_assistance")
class TempAssistanceCalculator(Calculator):
    """临时救助 (国发〔2014〕47号): pays params["amount"] once — the approved amount less any 先行救助
    already handed over; params carry the steps of how the amount was reached."""

    label = "临时救助一次性发放"

    def compute(
        self, row: dict, facts: dict, standards: StandardsInForce, month: datetime.date
    ) -> LineResult | None:
        params = row.get("params") or {}
        try:
            amount = self.round(Decimal(str(params["amount"])))
        except (KeyError, InvalidOperation) as exc:
            raise CalculationError(f"临时救助待遇资格 #{row['id']} 未记录发放金额（amount）。") from exc
        if amount < 0:
            raise CalculationError(f"临时救助待遇资格 #{row['id']} 的发放金额不能为负数。")
        if amount == 0:
            return None
        steps = [list(step) for step in params.get("steps", [])]
        steps.append(["本次发放金额", f"{amount:.2f}"])
        return LineResult(
            amount=amount,
            base_amount=amount,
            explanation={
                "formula": params.get("formula") or "按批准金额一次性发放",
                "steps": steps,
                "case": params.get("case_number", ""),
            },
        )
