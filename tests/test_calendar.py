"""Working days over the official calendar and calendar-day periods (民法典 第二百零一条/第二百零三条)."""

import datetime

import chinese_calendar
import pytest

from core.workflow.calendar import (
    add_calendar_period,
    add_working_days,
    is_working_day,
    missing_calendar_years,
    working_days_between,
)
from core.workflow.models import CalendarDay

D = datetime.date
pytestmark = pytest.mark.django_db


def test_seed_matches_the_package_for_every_day_of_2024_to_2026():
    rows = dict(CalendarDay.objects.values_list("date", "is_working_day"))
    day = D(2024, 1, 1)
    checked = 0
    while day.year <= 2026:
        assert rows[day] == chinese_calendar.is_workday(day), day
        day += datetime.timedelta(days=1)
        checked += 1
    assert checked == 366 + 365 + 365


def test_seeded_notes_name_holidays_and_adjusted_working_weekends():
    notes = dict(CalendarDay.objects.filter(date__year=2025).values_list("date", "note"))
    for d in range(1, 9):
        assert notes[D(2025, 10, d)] in {"国庆节", "中秋节"}
    assert notes[D(2025, 10, 1)] == "国庆节"
    # The 2025 National Day make-up working days are Sunday 28 September and Saturday 11 October
    # (the package and 国办发明电〔2024〕12号 agree; 28 September 2025 is a Sunday, not a Saturday).
    assert D(2025, 9, 28).weekday() == 6
    assert notes[D(2025, 9, 28)] == "调休上班"
    assert notes[D(2025, 10, 11)] == "调休上班"
    assert CalendarDay.objects.get(date=D(2026, 2, 17)).note == "春节"


def test_is_working_day_follows_the_calendar():
    assert not is_working_day(D(2025, 10, 1))  # 国庆节, a Wednesday
    assert not is_working_day(D(2025, 10, 8))
    assert is_working_day(D(2025, 10, 9))
    assert is_working_day(D(2025, 9, 28))  # 调休 Sunday
    assert is_working_day(D(2025, 10, 11))  # 调休 Saturday
    assert not is_working_day(D(2025, 10, 12))  # ordinary Sunday


def test_add_working_days_across_national_day_2025():
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)  # Fri → the 调休 Sunday
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)  # skips 1–8 October
    assert add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)  # 9, 10, Sat 11
    # 30 Sep, 9, 10, 11, 13, 14, 15, 16, 17, 20 October
    assert add_working_days(D(2025, 9, 29), 10) == D(2025, 10, 20)


def test_add_working_days_across_spring_festival_2026():
    # 2026 春节: 15–23 February off; Saturday 14 and Saturday 28 February are working days.
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    # 13, 14, 24, 25, 26, 27, 28 February, 2, 3, 4 March
    assert add_working_days(D(2026, 2, 12), 10) == D(2026, 3, 4)


def test_add_working_days_zero_is_the_start_and_negative_is_refused():
    assert add_working_days(D(2025, 10, 3), 0) == D(2025, 10, 3)
    with pytest.raises(ValueError):
        add_working_days(D(2025, 10, 3), -1)


def test_add_working_days_reads_the_calendar_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        add_working_days(D(2025, 9, 29), 30)


def test_long_periods_cross_several_windows():
    start = D(2024, 1, 2)
    end = add_working_days(start, 500)
    assert working_days_between(start, end) == 500
    assert (
        sum(
            chinese_calendar.is_workday(start + datetime.timedelta(days=i + 1))
            for i in range((end - start).days)
        )
        == 500
    )


def test_working_days_between_is_the_inverse_of_add_working_days():
    start = D(2025, 9, 20)
    for n in (1, 2, 5, 10, 15, 30):
        assert working_days_between(start, add_working_days(start, n)) == n
    assert working_days_between(D(2025, 10, 9), D(2025, 9, 30)) == -1
    assert working_days_between(D(2025, 10, 1), D(2025, 10, 1)) == 0
    assert working_days_between(D(2025, 10, 1), D(2025, 10, 8)) == 0


def test_years_without_rows_fall_back_to_monday_to_friday():
    assert not CalendarDay.objects.filter(date__year=2030).exists()
    assert is_working_day(D(2030, 10, 1))  # a Tuesday: unknown holiday, counted as working
    assert add_working_days(D(2030, 1, 4), 1) == D(2030, 1, 7)  # Fri → Mon
    # Across the seeded/unseeded boundary: 31 Dec 2026 (Thu) + 2 → Fri 1 Jan, Mon 4 Jan 2027.
    assert add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 4)


def test_edits_in_the_admin_table_take_effect():
    CalendarDay.objects.create(date=D(2030, 10, 1), is_working_day=False, note="国庆节")
    assert not is_working_day(D(2030, 10, 1))
    assert add_working_days(D(2030, 9, 30), 1) == D(2030, 10, 2)


def test_calendar_period_starts_the_day_after():
    assert add_calendar_period(D(2025, 3, 3), 7) == D(2025, 3, 10)  # Mon → Mon


def test_calendar_period_ending_on_a_holiday_moves_to_the_next_working_day():
    # A 7-day period from 26 September 2025 would end on 3 October (国庆节) → 9 October. (Not a 公示: a
    # posting counts its days as posted, see notice_end_date.)
    assert add_calendar_period(D(2025, 9, 26), 7) == D(2025, 10, 9)
    # 离婚冷静期 of 30 days from 16 January 2026 ends 15 February (春节) → 24 February.
    assert add_calendar_period(D(2026, 1, 16), 30) == D(2026, 2, 24)


def test_calendar_period_ending_on_a_weekend_moves_but_not_past_a_make_up_working_day():
    assert add_calendar_period(D(2025, 3, 1), 7) == D(2025, 3, 10)  # Sat 8 → Mon 10
    # Ends Saturday 27 September 2025; Sunday 28 September is a 调休 working day.
    assert add_calendar_period(D(2025, 9, 20), 7) == D(2025, 9, 28)


def test_calendar_period_refuses_non_positive_days():
    with pytest.raises(ValueError):
        add_calendar_period(D(2025, 3, 1), 0)


def test_missing_calendar_years():
    assert missing_calendar_years(D(2025, 6, 1)) == []
    assert missing_calendar_years(D(2026, 11, 23)) == [2027]
    assert missing_calendar_years(D(2028, 1, 1)) == [2028, 2029]
    CalendarDay.objects.create(date=D(2027, 1, 1), is_working_day=False, note="元旦")
    assert missing_calendar_years(D(2026, 11, 23)) == []
