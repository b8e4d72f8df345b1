"""The district's 抽查 of the 低保 approvals its streets confirmed under delegation (委托乡镇/街道确认).

A sample is drawn once per district and month from the approvals the streets confirmed that month, at the
rate in force (Parameter delegation.sample_rate), with a recorded seed: drawing again from the same
approvals with the same seed gives the same cases (services.sample_case_ids). Each drawn case gets one
check, where the section's 科长 records 符合 or 不符合 with a note; 不符合 opens a 低保 dynamic review."""

from __future__ import annotations

from django.db import models

from core.fields import ref, region_prefix_index, user_ref
from core.registry.querysets import ScopedQuerySet


class DelegationSample(models.Model):
    month = models.DateField("确认月份", help_text="抽查该月街道确认批准的低保案件（每月1日）")
    region = ref("registry.Region", "区县")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    rate = models.DecimalField("抽查比例", max_digits=5, decimal_places=4)
    seed = models.PositiveBigIntegerField("随机种子")
    population = models.PositiveIntegerField("街道确认批准案件数")
    drawn_by = user_ref("抽取人")
    drawn_at = models.DateTimeField("抽取时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "委托确认抽查"
        verbose_name_plural = "委托确认抽查"
        ordering = ["-month", "region_code"]
        indexes = [region_prefix_index("deleg_sample_region_idx")]
        constraints = [
            models.UniqueConstraint(fields=["month", "region_code"], name="one_delegation_sample_per_month"),
            models.CheckConstraint(
                condition=models.Q(rate__gt=0, rate__lte=1), name="delegation_sample_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y年%m月} 委托确认抽查"


class DelegationCheck(models.Model):
    class Result(models.TextChoices):
        CONFORMING = "conforming", "符合"
        NONCONFORMING = "nonconforming", "不符合"

    sample = models.ForeignKey(
        DelegationSample, verbose_name="抽查", on_delete=models.PROTECT, related_name="checks"
    )
    case = ref("workflow.Case", "案件")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    confirmed_by = user_ref("街道确认人")
    result = models.CharField("抽查结果", max_length=16, choices=Result.choices, blank=True)
    note = models.TextField("抽查意见", blank=True)
    checked_by = user_ref("抽查人", optional=True)
    checked_at = models.DateTimeField("抽查时间", null=True, blank=True)
    review = ref("assistance.DibaoReview", "发起的复核", optional=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "委托确认抽查案件"
        verbose_name_plural = "委托确认抽查案件"
        ordering = ["sample", "case_id"]
        indexes = [region_prefix_index("deleg_check_region_idx")]
        constraints = [
            models.UniqueConstraint(fields=["sample", "case"], name="one_check_per_sampled_case"),
            models.CheckConstraint(
                condition=~models.Q(result="nonconforming", note=""), name="delegation_nonconforming_has_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sample} {self.case_id}"
