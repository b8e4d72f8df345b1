"""Tests: PostgreSQL when DATABASE_URL is set (CI), fast password hashing, eager Celery."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["*"]
SALT_KEY = ["test-field-key-not-for-production"]
PII_HASH_KEY = "test-hash-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
# pytest-xdist runs the suite in several processes (`make test`: gw0, gw1 …), each on its own test database
# (pytest-django adds the suffix) and its own media folder.
MEDIA_ROOT = BASE_DIR / ".test-media" / os.environ.get("PYTEST_XDIST_WORKER", "main")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
OTP_REQUIRED = False  # tests/test_two_factor.py turns it on with override_settings
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
INSTALLED_APPS = [*INSTALLED_APPS, "tests.caseapp"]  # noqa: F405
# Serve static files from the app folders (no collectstatic in tests; the live server uses them).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
