from django.db import models

from core.workflow.models import Case


class GenericApplication(models.Model):
    """A minimal bureau application: the case header plus one field of its own."""

    case = models.OneToOneField(
        Case, verbose_name="案件", primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("申请事由", max_length=200, blank=True)

    class Meta:
        verbose_name = "通用申请"
        verbose_name_plural = "通用申请"

    def __str__(self) -> str:
        return str(self.case)
