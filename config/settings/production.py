"""Production: PostgreSQL, Redis, Celery worker and beat. Refuses to start without the essentials."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, secret_key_problem, tune_postgresql

DEBUG = False
# Two-factor sign-in for 科长, 局领导 and 系统管理员 (base.OTP_REQUIRED_ROLES): on unless turned off.
OTP_REQUIRED = env.bool("DJANGO_OTP_REQUIRED", default=True)
for _name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"):
    if not env(_name, default=""):
        raise ImproperlyConfigured(f"生产环境必须设置环境变量 {_name}（{_name} is required in production）")

SECRET_KEY = env("DJANGO_SECRET_KEY")
_secret_key_problem = secret_key_problem(SECRET_KEY)
if _secret_key_problem:
    raise ImproperlyConfigured(
        f"生产环境的 DJANGO_SECRET_KEY 强度不足：{_secret_key_problem}。"
        '请用 python -c "import secrets; print(secrets.token_urlsafe(50))" 生成（weak DJANGO_SECRET_KEY）'
    )
# Personal data at rest (core/registry/crypto.py, README "Keys and rotation"): both keys are required and
# strong; a key lost is data lost, so they are kept like the database password, outside the database.
SALT_KEY = env.list("DJANGO_FIELD_ENCRYPTION_KEYS", default=[])
PII_HASH_KEY = env("DJANGO_PII_HASH_KEY", default="")
for _name, _keys in (("DJANGO_FIELD_ENCRYPTION_KEYS", SALT_KEY), ("DJANGO_PII_HASH_KEY", [PII_HASH_KEY])):
    _problems = [secret_key_problem(key, minimum=32) for key in _keys if key] if any(_keys) else ["未设置"]
    if any(_problems):
        raise ImproperlyConfigured(
            f"生产环境的 {_name} 不可用：{next(p for p in _problems if p)}。"
            '请用 python -c "import secrets; print(secrets.token_urlsafe(32))" 生成并妥善保存'
            f"（{_name} is missing or weak）"
        )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
tune_postgresql(DATABASES["default"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    raise ImproperlyConfigured("生产环境必须使用 PostgreSQL 数据库（DATABASE_URL）")

# One cache for every gunicorn worker (the dashboard's counts per scope, core.portal.dashboard): Redis
# when CACHE_URL or REDIS_URL is set; otherwise each worker process keeps its own in memory.
_cache_url = env("CACHE_URL", default=env("REDIS_URL", default=""))
if _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "minzheng",
        }
    }

# HTTPS only. Behind a TLS-terminating reverse proxy the app sees plain HTTP; the proxy says the client's
# scheme in a header, named by DJANGO_SECURE_PROXY_SSL_HEADER as "HEADER,value" (default
# "HTTP_X_FORWARDED_PROTO,https" = nginx's `proxy_set_header X-Forwarded-Proto $scheme;`). The proxy must
# set or strip that header on every request, or a client could claim HTTPS. Empty = no proxy header (TLS
# ends at gunicorn itself).
_proxy_ssl_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2 or not _proxy_ssl_header[0].startswith("HTTP_"):
        raise ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER 的格式应为“HTTP_请求头名,取值”，例如 HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
# Plain-HTTP requests are redirected to HTTPS (off only where the proxy itself redirects and the health
# check of the load balancer speaks HTTP: then list its paths in DJANGO_SECURE_REDIRECT_EXEMPT, regexes).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = env.list("DJANGO_SECURE_REDIRECT_EXEMPT", default=[])
# HSTS: browsers use HTTPS only for this host for a year. Includes the host's own subdomains; "preload"
# only marks the header as eligible (a host is on browsers' preload list only when submitted to it).
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
