"""The environment of a production process (config.settings.production) for tests that start one in a
subprocess, as gunicorn would: every required variable set to a strong value, the test process's own
DJANGO_* and LOG_* variables left out, `overrides` last."""

import os
import secrets

STRONG_KEY = secrets.token_urlsafe(50)
FIELD_KEY = secrets.token_urlsafe(32)
HASH_KEY = secrets.token_urlsafe(32)


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "LOG_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_FIELD_ENCRYPTION_KEYS=FIELD_KEY,
        DJANGO_PII_HASH_KEY=HASH_KEY,
        DJANGO_ALLOWED_HOSTS="minzheng.example.gov.cn",
        DATABASE_URL="postgres://minzheng:password@127.0.0.1:5432/minzheng",
    )
    env.update(overrides)
    return env
