"""The kept 两项补贴 comparisons (selectors.monthly_comparison_kept) go stale when an entitlement (a subsidy
or a 低保 household's) or a person (a death, a disability certificate) is saved or deleted."""

from django.db.models.signals import post_delete, post_save

from core.benefits.models import Entitlement
from core.registry.models import Person

from .selectors import comparison_changed

for _model in (Entitlement, Person):
    post_save.connect(
        comparison_changed, sender=_model, dispatch_uid=f"disability_comparison_{_model.__name__}"
    )
    post_delete.connect(
        comparison_changed, sender=_model, dispatch_uid=f"disability_comparison_{_model.__name__}_deleted"
    )
