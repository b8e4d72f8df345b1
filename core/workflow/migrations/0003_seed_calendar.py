"""Seed the working-day calendar for 2024–2026 from the `chinese_calendar` package, which follows the
State Council (国务院办公厅) holiday notices. Later years are entered by the administrator."""

import datetime

from django.db import migrations

YEARS = (2024, 2025, 2026)
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争胜利纪念日",
}


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarDay = apps.get_model("workflow", "CalendarDay")
    existing = set(
        CalendarDay.objects.filter(date__year__in=YEARS).values_list("date", flat=True)
    )
    rows = []
    for year in YEARS:
        day = datetime.date(year, 1, 1)
        while day.year == year:
            if day not in existing:
                working = chinese_calendar.is_workday(day)
                on_holiday, name = chinese_calendar.get_holiday_detail(day)
                if working:
                    note = "调休上班" if day.weekday() >= 5 else ""
                elif name:
                    note = HOLIDAY_NAMES.get(name, name)
                else:
                    note = ""
                rows.append(CalendarDay(date=day, is_working_day=working, note=note))
            day += datetime.timedelta(days=1)
    CalendarDay.objects.bulk_create(rows, batch_size=500)


def unseed(apps, schema_editor):
    CalendarDay = apps.get_model("workflow", "CalendarDay")
    CalendarDay.objects.filter(date__year__in=YEARS).delete()


class Migration(migrations.Migration):
    dependencies = [("workflow", "0002_sequence_notice_close")]

    operations = [migrations.RunPython(seed, unseed)]
