"""低保边缘家庭 and 刚性支出困难家庭 recognised by decision (issue 13 item 8): the register (台账).

A recognition is made by the confirmation of a 低保 application ("一次申请、一次性确认", seed 003): a household
found not eligible for 低保 but fitting 低保边缘 or 刚性支出 is recognised as that by the same decision, and
a 单人保 approval recognises its household as 低保边缘. It is valid from the decision to a date (刚性支出 at
most 12 months, 低保边缘 a parameter), and renewed by a new application and decision. One active
recognition per household and category: a conditional unique constraint, not a hope."""

from __future__ import annotations

import datetime

from django.db import models

from core.fields import ref, region_prefix_index, user_ref
from core.registry.querysets import ScopedQuerySet

# Within this many days of its end an active recognition is listed as 待续期.
RENEWAL_WINDOW_DAYS = 30


class LowIncomeCategory(models.TextChoices):
    # The same codes as assistance.models.Category (the application's categories).
    EDGE = "edge", "低保边缘家庭"
    RIGID = "rigid", "刚性支出困难家庭"


class LowIncomeRecognition(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        RENEWED = "renewed", "已续期"
        ENDED = "ended", "已终止"

    household = models.ForeignKey(
        "registry.Household",
        verbose_name="家庭",
        on_delete=models.PROTECT,
        related_name="low_income_recognitions",
    )
    category = models.CharField("认定类别", max_length=8, choices=LowIncomeCategory.choices)
    case = models.ForeignKey(
        "workflow.Case",
        verbose_name="认定案件",
        on_delete=models.PROTECT,
        related_name="low_income_recognitions",
    )
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    valid_from = models.DateField("认定生效日期")
    valid_until = models.DateField("有效期至")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.ACTIVE)
    basis = models.TextField("认定依据", blank=True)
    renews = ref("self", "续期前的认定", optional=True, related_name="renewals")
    ended_on = models.DateField("终止日期", null=True, blank=True)
    end_reason = models.CharField("终止原因", max_length=200, blank=True)
    decided_by = user_ref("确认人")
    decided_at = models.DateTimeField("确认时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "低收入家庭认定"
        verbose_name_plural = "低收入家庭认定"
        ordering = ["valid_until", "id"]
        indexes = [region_prefix_index("low_income_region_prefix_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "category"],
                condition=models.Q(status="active"),
                name="one_active_low_income_recognition",
                violation_error_message="该家庭已有有效的同类认定",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="low_income_recognition_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.get_category_display()}"

    def state_on(self, today: datetime.date) -> str:
        """What the register shows: 有效 / 待续期 (ends within RENEWAL_WINDOW_DAYS) / 已到期 / 已续期 / 已终止."""
        if self.status != self.Status.ACTIVE:
            return self.get_status_display()
        if self.valid_until < today:
            return "已到期"
        if self.valid_until <= today + datetime.timedelta(days=RENEWAL_WINDOW_DAYS):
            return "待续期"
        return "有效"
