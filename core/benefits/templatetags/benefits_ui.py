"""Show a payment line's explanation JSON readably in Chinese."""

from __future__ import annotations

import datetime
import json

from django import template

from core.registry.choices import AreaType

from ..calculators import explanation_steps as _explanation_steps
from ..models import Standard

register = template.Library()

EXPLANATION_LABELS = {
    "calculator": "计算规则",
    "month": "计算月份",
    "original_month": "原发放月份",
    "tier": "档次",
    "area_type": "城乡",
    "standard": "待遇标准（元）",
    "standard_unit": "标准单位",
    "standard_effective_from": "标准生效日期",
    "standard_source": "标准依据",
    "members": "家庭人数",
    "living_members": "在世成员数",
    "covered_persons": "保障人数",
    "per_capita_income": "家庭月人均收入（元）",
    "household_income": "家庭月收入（元）",
    "base": "基本金额（元）",
    "increments": "分类施保",
    "floor": "保底金额（元）",
    "previous_amount": "上月发放金额（元）",
    "paid": "已发放金额（元）",
    "difference": "差额（元）",
    "stop_reason": "停发原因",
    "adjustment_reason": "补发/扣回原因",
    "rounding": "取整规则",
    "total": "合计金额（元）",
    "standard_amount": "低保标准（元/月）",
    "counted_income": "计入收入（元/月）",
    "excluded_income": "不计入收入（元/月）",
    "deducted_income": "扣减（元/月）",
    "single_cover": "单人保",
    "floor_applied": "按保底发放",
    "increment": "分类施保金额（元）",
    "classified_mode": "分类施保方式",
    "change_cause": "本月变动原因",
}
# Shown elsewhere (formula, steps, nested recomputation), only the figures the steps are rendered from
# (core.benefits.calculators.explanation_steps), or meaningless to a caseworker.
HIDDEN = {
    "formula",
    "steps",
    "recomputed",
    "standard_id",
    "steps_from",
    "standard_text",
    "outcome",
    "per_capita_rounded",
    "net_income",
    "gap",
    "gap_each",
    "floor_ratio",
    "floor_each",
    "floor_total",
    "base_exact",
    "increment_exact",
    "rounding_unit",
    # the 核定依据 step says these (assistance.bases)
    "basis_from",
    "basis_label",
    "basis_case_number",
}
MONTH_KEYS = {"month", "original_month"}
DATE_KEYS = {"standard_effective_from"}


def _display(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if key in MONTH_KEYS or key in DATE_KEYS:
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{day.year}年{day.month}月" if key in MONTH_KEYS else f"{day.year}年{day.month}月{day.day}日"
    if key == "standard_unit":
        return dict(Standard.Unit.choices).get(value, str(value))
    if key == "area_type":
        return dict(AreaType.choices).get(value, "不分城乡")
    if key == "classified_mode":
        return {"addition": "按标准比例加发", "floor": "不低于标准的一定比例"}.get(value, str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "increments" and isinstance(value, list):
        return (
            "；".join(
                f"{i.get('name', '')}：{i.get('label', '')} {i.get('amount', '')} 元"
                for i in value
                if isinstance(i, dict)
            )
            or "无"
        )
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                parts.append("，".join(f"{k}：{v}" for k, v in item.items()))
            elif isinstance(item, list | tuple):
                parts.append("：".join(str(v) for v in item))
            else:
                parts.append(str(item))
        return "；".join(parts) or "无"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@register.inclusion_tag("benefits/_explanation.html")
def explanation(data, nested: bool = False):
    """{% explanation line.explanation %} — formula, steps, then the other facts with Chinese labels."""
    data = data if isinstance(data, dict) else {}
    steps = [
        (str(s[0]), str(s[1]))
        for s in _explanation_steps(data)
        if isinstance(s, list | tuple) and len(s) >= 2
    ]
    facts = [
        (EXPLANATION_LABELS.get(key, key), _display(key, value))
        for key, value in data.items()
        if key not in HIDDEN
    ]
    return {
        "formula": data.get("formula", ""),
        "steps": steps,
        "facts": facts,
        "recomputed": data.get("recomputed") if not nested else None,
        "nested": nested,
    }


@register.filter
def explanation_steps(data) -> list:
    """{{ explanation|explanation_steps }}: stored steps, or those rendered from the stored figures."""
    return _explanation_steps(data)
