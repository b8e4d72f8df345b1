"""Filter form of the 保障对象台账 (GET)."""

from __future__ import annotations

from django import forms

from core.registry.choices import AreaType
from core.registry.selectors import streets_and_communities
from core.validation import QueryField

from .selectors import CATEGORIES, DEFAULT_CATEGORY, GROUPS, TABS


class LedgerFilterForm(forms.Form):
    category = forms.ChoiceField(label="救助类别", required=False, choices=list(CATEGORIES.items()))
    tab = forms.ChoiceField(label="状态", required=False, choices=list(TABS.items()))
    q = QueryField(label="查询", max_length=50)
    street = forms.ChoiceField(label="街道/乡镇", required=False)
    community = forms.ChoiceField(label="社区/村", required=False)
    area_type = forms.ChoiceField(label="城乡", required=False, choices=[("", "全部城乡"), *AreaType.choices])
    group = forms.ChoiceField(label="人群", required=False, choices=[("", "全部人群"), *GROUPS.items()])
    amount_min = forms.DecimalField(label="本月金额≥", required=False, min_value=0, decimal_places=2)
    amount_max = forms.DecimalField(label="本月金额≤", required=False, min_value=0, decimal_places=2)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        streets, communities = streets_and_communities(user)
        self.region_names = {r.code: r.name for r in (*streets, *communities)}
        self.fields["street"].choices = [("", "全部街道"), *((r.code, r.name) for r in streets)]
        self.fields["community"].choices = [("", "全部社区"), *((r.code, r.name) for r in communities)]

    def params(self) -> dict:
        """The valid fields only: a bad amount drops that filter, not the whole query."""
        if not self.is_bound:
            return {"category": DEFAULT_CATEGORY}
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        data.setdefault("category", DEFAULT_CATEGORY)
        return data
