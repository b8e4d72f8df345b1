"""Production settings (issue 12, item 9): Content-Security-Policy on every page, HSTS and the HTTPS
redirect (configurable for a TLS proxy), `check --deploy` clean, and a weak DJANGO_SECRET_KEY refused at
start. The production module is loaded in a subprocess, as gunicorn would load it, with production-like
environment variables."""

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.settings.base import secret_key_problem
from tests.production import STRONG_KEY, production_env

BASE_DIR = Path(settings.BASE_DIR)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "change-me-to-a-long-random-string",  # the old .env.example value: 33 characters
        "django-insecure-" + secrets.token_urlsafe(50),  # Django's generated development key
        "abab" * 20,  # long, but 2 distinct characters
    ],
    ids=["short", "django-insecure", "few-distinct"],
)
def test_weak_secret_key_refuses_to_start(key):
    result = run_python("import django; django.setup()", production_env(DJANGO_SECRET_KEY=key))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY 强度不足" in result.stderr


def test_secret_key_rule():
    assert secret_key_problem(STRONG_KEY) == ""
    assert "50" in secret_key_problem("x1" * 10)
    assert "不同字符" in secret_key_problem("0123" * 20)
    assert "django-insecure" in secret_key_problem("django-insecure-" + STRONG_KEY)


# A request through the whole production middleware stack; the login page needs no database.
REQUEST_CODE = """
import json, django
django.setup()
from django.test import Client, override_settings
client = Client()
extra = json.loads(%r)
# Static URLs without collectstatic's manifest (a fresh checkout has none); nothing else changes.
storages = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
with override_settings(STORAGES=storages):
    r = client.get("/accounts/login/", HTTP_HOST="minzheng.example.gov.cn", **extra)
print(json.dumps({"status": r.status_code, "headers": dict(r.headers)}))
"""


def production_get(extra: dict, **env_overrides: str) -> dict:
    result = run_python(REQUEST_CODE % json.dumps(extra), production_env(**env_overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_http_to_https():
    answer = production_get({})
    assert answer["status"] == 301
    assert answer["headers"]["Location"] == "https://minzheng.example.gov.cn/accounts/login/"


def test_production_page_sends_csp_and_hsts_behind_the_tls_proxy():
    # The proxy terminated TLS and says so in X-Forwarded-Proto (the default DJANGO_SECURE_PROXY_SSL_HEADER).
    answer = production_get({"HTTP_X_FORWARDED_PROTO": "https"})
    assert answer["status"] == 200
    headers = answer["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    directives = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]


def test_proxy_ssl_header_is_configurable():
    # A proxy that sends X-Forwarded-Ssl: on instead.
    answer = production_get(
        {"HTTP_X_FORWARDED_SSL": "on"}, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_SSL,on"
    )
    assert answer["status"] == 200
    # The default header no longer counts: a client cannot claim HTTPS through it.
    answer = production_get(
        {"HTTP_X_FORWARDED_PROTO": "https"}, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_SSL,on"
    )
    assert answer["status"] == 301
    result = run_python(
        "import django; django.setup()", production_env(DJANGO_SECURE_PROXY_SSL_HEADER="https")
    )
    assert result.returncode != 0 and "DJANGO_SECURE_PROXY_SSL_HEADER" in result.stderr


def test_pages_send_the_policy(client, make_user):
    """The policy is in every environment's settings, so the browser tests run under it."""
    client.force_login(make_user("社区经办人"))
    response = client.get("/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe" not in policy


# Templates rendered for browsers (not reports/print and assistance/print, which only WeasyPrint reads).
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style", re.IGNORECASE)


def browser_templates():
    for root in ("templates", "core", "assistance", "reports"):
        for path in sorted((BASE_DIR / root).rglob("*.html")):
            if "templates" in path.parts and "print" not in path.parts:
                yield path


def test_templates_have_no_inline_script_handler_or_style():
    offenders = []
    for path in browser_templates():
        text = re.sub(r"{#.*?#}", "", path.read_text(encoding="utf-8"))
        text = re.sub(r'<script[^>]*type="application/json"[^>]*>', "", text)
        offenders += [f"{path.relative_to(BASE_DIR)}: {m.group(0)}" for m in INLINE.finditer(text)]
    assert not offenders, "inline script/style (refused by the Content-Security-Policy):\n" + "\n".join(
        offenders
    )
