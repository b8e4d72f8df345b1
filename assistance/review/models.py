"""拟停保告知 (issue 13 item 12): before a 低保 review's 停发 is confirmed, the household is told of the
intended stop and given a period to state its case (陈述、申辩). One notice per review; the 科长 confirms the
停发 only once the period has ended or the household's response is recorded and considered
(services.guard_confirm)."""

from __future__ import annotations

from django.db import models

from core.fields import user_ref
from core.registry.querysets import ScopedQuerySet


class StopPreNotice(models.Model):
    class Response(models.TextChoices):
        NONE = "", "未提出意见"
        WAIVED = "waived", "明确表示无异议"
        STATEMENT = "statement", "提出陈述申辩"

    review = models.OneToOneField(
        "assistance.DibaoReview",
        verbose_name="复核",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="stop_prenotice",
    )
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    issued_on = models.DateField("告知日期")
    deadline = models.DateField("陈述申辩期限")
    working_days = models.PositiveSmallIntegerField("陈述申辩期（工作日）")
    reasons = models.TextField("拟停保理由")
    issued_by = user_ref("告知人")
    response = models.CharField("家庭意见", max_length=10, choices=Response.choices, blank=True)
    statement = models.TextField("陈述申辩内容", blank=True)
    consideration = models.TextField("处理意见", blank=True)
    responded_on = models.DateField("意见登记日期", null=True, blank=True)
    response_by = user_ref("意见登记人", optional=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "拟停保告知"
        verbose_name_plural = "拟停保告知"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(response="statement", statement="")
                & ~models.Q(response="statement", consideration=""),
                name="prenotice_statement_considered",
            ),
            models.CheckConstraint(
                condition=models.Q(deadline__gt=models.F("issued_on")), name="prenotice_period"
            ),
        ]

    def __str__(self) -> str:
        return f"拟停保告知 {self.review_id}"
