"""The embedded default: SQLite, Celery eager, debug pages off unless asked for."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-change-me-7f3a9c2e1b")
# The embedded demo's keys for personal data at rest (production.py refuses these).
SALT_KEY = env.list("DJANGO_FIELD_ENCRYPTION_KEYS", default=["local-only-field-key-3b9d7e1c5a"])
PII_HASH_KEY = env("DJANGO_PII_HASH_KEY", default="local-only-hash-key-8c2f4a6e0d")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
