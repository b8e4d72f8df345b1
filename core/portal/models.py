"""The dashboard's kept figures (core.portal.dashboard.scope_figures)."""

from __future__ import annotations

import datetime
import pickle  # noqa: S403 — our own values, written by this module only (as Django's cache backends do)
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from .dashboard import Figures


class FiguresSnapshot(models.Model):
    """What a dashboard provider returned for one scope and day, kept in the database so that a restart or
    an emptied cache does not make the next user wait for every panel. Derived data: rows of past days are
    removed by the refresh task (prune), nothing else refers to them."""

    key = models.CharField("键", max_length=200, unique=True)  # dashboard:<name>:<scope prefix>:<day>
    day = models.DateField("统计日", db_index=True)
    computed_at = models.DateTimeField("统计时间")
    value = models.BinaryField("数据")
    # A user of the scope (whoever's request computed it): the nightly warm-up computes the next day's
    # figures as that user (tasks.warm_dashboard_figures). Figures depend on the scope only.
    computed_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="统计范围用户",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "工作台统计快照"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.key

    def figures(self) -> Figures:
        from .dashboard import Figures

        value = pickle.loads(self.value)  # noqa: S301 — written by keep() below, never by a user
        return Figures(value, self.day, self.computed_at)

    @classmethod
    def keep(cls, figures_by_key: dict[str, Figures], user) -> None:
        """Insert or replace the snapshots of `user`'s scope, in one statement."""
        cls.objects.bulk_create(
            [
                cls(
                    key=key,
                    day=f.day,
                    computed_at=f.computed_at,
                    value=pickle.dumps(f.value),
                    computed_for=user,
                )
                for key, f in figures_by_key.items()
            ],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["day", "computed_at", "value", "computed_for"],
        )

    @property
    def name(self) -> str:
        """The registered figures' name (the key is dashboard:<name>:<scope>:<day>; names hold no colon)."""
        return self.key.split(":")[1]

    @property
    def scope(self) -> str:
        return self.key.split(":")[2]

    @classmethod
    def prune(cls, today: datetime.date) -> int:
        """Remove the snapshots of days before yesterday (no page reads them)."""
        return cls.objects.filter(day__lt=today - datetime.timedelta(days=1)).delete()[0]
