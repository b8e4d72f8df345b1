from django.conf import settings

from config.celery_app import app


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, f"beat schedules an unknown task {entry['task']}"


def test_monthly_recalculation_is_scheduled():
    tasks = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "benefits.recalculate_all_for_next_month" in tasks
    assert "registry.detect_birthdays" in tasks
