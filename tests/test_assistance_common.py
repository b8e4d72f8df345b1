"""The pieces every flow shares, from the case-flow kit: the household search of 新增申请 and the 公示 form."""

import datetime

import pytest
from django.http import QueryDict

from core.registry.selectors import household_search
from core.workflow.flow_views import _notice_start as parse_notice_start
from core.workflow.services import TransitionError
from tests.factories import household_with_members


def test_household_search_by_number_or_head_name_within_scope(db, regions, make_user):
    mine = household_with_members(regions["community11"], size=1)
    other = household_with_members(regions["community21"], size=1)
    clerk = make_user("社区经办人", region="community11")
    assert household_search(clerk, mine.number[:14]) == [mine]
    assert household_search(clerk, mine.head.name[1:]) == [mine]
    assert household_search(clerk, other.number) == []
    assert household_search(clerk, "  ") == []


@pytest.mark.parametrize(
    "path", ["/assistance/dibao/new/", "/assistance/tekun/new/", "/assistance/temporary/new/"]
)
def test_new_application_pages_find_the_household_in_scope_only(client, regions, make_user, path):
    mine = household_with_members(regions["community11"], size=1, number="H-MINE-0001")
    household_with_members(regions["community21"], size=1, number="H-OTHER-001")
    client.force_login(make_user("社区经办人", region="community11"))
    html = client.get(path, {"q": "H-"}).content.decode()
    assert mine.number in html and "H-OTHER-001" not in html


def test_notice_form_needs_a_start_date_and_days():
    start, days = parse_notice_start(QueryDict("start_date=2026-11-02&days=7"))
    assert (start, days) == (datetime.date(2026, 11, 2), 7)
    for bad in ("days=7", "start_date=2026-13-01&days=7", "start_date=2026-11-02&days=seven"):
        with pytest.raises(TransitionError, match="公示开始日期和天数"):
            parse_notice_start(QueryDict(bad))
