"""The 探访关爱 card of the person page (core/registry's person_detail.html includes visits/_person_card.html,
which calls this tag: the registry view stays unaware of visits)."""

from __future__ import annotations

from django import template

from ..selectors import person_visits

register = template.Library()


@register.inclusion_tag("visits/_person_card_body.html", takes_context=True)
def visits_person_card(context, person):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.has_perm("visits.view_enrollment") or user.has_perm("visits.view_visit")):
        return {"show": False}
    data = person_visits(user, person)
    return {
        "show": True,
        "person": person,
        "data": data,
        "may_visit": user.has_perm("visits.add_visit")
        and not person.death_date
        and bool(data.open_enrollments),
        "may_enroll": user.has_perm("visits.add_enrollment") and not person.death_date,
        "may_leave": user.has_perm("visits.change_enrollment"),
    }
