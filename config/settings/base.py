"""Settings shared by every environment. Every knob comes from the environment (django-environ);
`.env.example` documents them all."""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.logging import MIN_RETENTION_DAYS, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))


def secret_key_problem(key: str, minimum: int = 50) -> str:
    """Why a secret key is too weak for production, or "" — Django's check security.W009 (fewer than 50
    characters, few distinct ones, Django's generated "django-insecure-" key), which
    config.settings.production turns into a refusal to start instead of a warning. Stricter on variety
    than W009's 5 distinct characters: 10 (a hex key has 16, `secrets.token_urlsafe(50)` about 40)."""
    if key.startswith("django-insecure"):
        return "不能使用以 django-insecure 开头的开发用密钥"
    if len(key) < minimum:
        return f"长度为 {len(key)} 个字符，至少需要 {minimum} 个"
    if len(set(key)) < 10:
        return f"只含 {len(set(key))} 种不同字符，至少需要 10 种"
    return ""


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
# Old secret keys, newest first: sessions signed with them stay valid, and personal data encrypted under
# them stays readable until `manage.py rekey_personal_data` (README "Keys and rotation").
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
# ID numbers and bank accounts encrypted at rest (core/registry/crypto.py): the encryption keys (the
# library's SALT_KEY, combined with SECRET_KEY), newest first, and the key of the hash that finds a person by
# ID number, with its predecessors while a new one is rolled out. local.py and test.py set fixed values;
# production.py refuses to start without strong ones.
SALT_KEY = env.list("DJANGO_FIELD_ENCRYPTION_KEYS", default=[])
PII_HASH_KEY = env("DJANGO_PII_HASH_KEY", default="")
PII_HASH_KEY_FALLBACKS = env.list("DJANGO_PII_HASH_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The bureau's own name, shown in the header, on printed forms and in reports.
BUREAU_NAME = env("BUREAU_NAME", default="长春市绿园区民政局")
SYSTEM_NAME = env("SYSTEM_NAME", default="民政业务管理系统")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "django_celery_beat",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core.accounts",
    "core.registry",
    "core.workflow",
    "core.benefits",
    "core.facilities",
    "core.staff",
    "core.portal",
    "core.visits",
    "assistance",
    "eldercare",
    "children",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.accounts.middleware.SessionIdleRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "core.accounts.middleware.LoginRequiredMiddleware",
    "core.accounts.middleware.OTPRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.accounts.context_processors.shell",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False


def tune_postgresql(database: dict) -> dict:
    """Django's .iterator() streams through server-side cursors, which PostgreSQL plans for the first 10 %
    of rows by default; every cursor here is an export read to the end (the roster: 18.9 s → 3.7 s)."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c cursor_tuple_fraction=1.0".strip()
    return database


tune_postgresql(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Strong passwords: at least 10 characters, not like the user's name nor containing the user name, not
# common, not all digits, letters and digits mixed.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "display_name", "email", "phone")},
    },
    {"NAME": "core.accounts.validators.UsernameInPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "core.accounts.validators.MixedCharacterValidator"},
]

# Lock-out after repeated failures (django-axes): 5 failures per user name lock it for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Two-factor sign-in (两步验证, django-otp TOTP): a user holding one of OTP_REQUIRED_ROLES (or a
# superuser) enters a 6-digit code from a phone app after the password, or binds one first
# (core.accounts.two_factor). On by default in production only: the embedded demo of `make run` and
# the tests log in without a phone.
OTP_REQUIRED = env.bool("DJANGO_OTP_REQUIRED", default=False)
OTP_REQUIRED_ROLES = ("科长", "局领导", "系统管理员")
OTP_CODE_FAILURE_LIMIT = 5  # wrong codes in one sign-in before the session is ended
OTP_TOTP_ISSUER = SYSTEM_NAME
# Lock by user name only: a bureau office sits behind one NAT address, so locking by IP would lock out
# every caseworker of the office after one person's typing errors.
SILENCED_SYSTEM_CHECKS = [
    "axes.W006",
    # Covering indexes (INCLUDE columns, the registry's city-scale list indexes) are PostgreSQL's; on the
    # embedded SQLite of `make run` the same index holds its key columns only, which is all it needs there —
    # not a warning on every command.
    "models.W040",
]

# Idle session expiry: the session ends after SESSION_IDLE_MINUTES without a request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
# Sliding idle expiry without a write per request: core.accounts.middleware.SessionIdleRefreshMiddleware
# saves the session at most once per SESSION_REFRESH_SECONDS (and whenever it changes).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Attachments: size limit and allowed types (scanned documents and photos).
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_MB", default=10) * 1024 * 1024
ATTACHMENT_ALLOWED_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "tif", "tiff", "doc", "docx", "xls", "xlsx"]
# A 户籍台账 file to import (reports/imports.py): 100,000 rows of the template are ~4 MB.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_MB", default=40) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

# Celery: eager when no broker is configured (the embedded default), Redis in production.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=""))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TRACK_STARTED = True
# A task is acknowledged when it ends, not when it starts: a worker killed mid-task (OOM, deploy) leaves
# its message to be delivered again instead of losing it; one task at a time per worker process.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A running report job that reports no progress for this long is failed (the worker is presumed lost) and
# may be retried; a recalculation still unfinished this long after it was requested is failed likewise.
REPORT_JOB_STALE_SECONDS = env.int("REPORT_JOB_STALE_SECONDS", default=600)
# An import's upload (every ID number of the ledger in plain text) left by a failed or cancelled attempt is
# deleted this many days after, unless retried (reports.services.report_uploads_purge).
REPORT_UPLOAD_KEEP_DAYS = env.int("REPORT_UPLOAD_KEEP_DAYS", default=7)
BENEFITS_RECALC_STALE_SECONDS = env.int("BENEFITS_RECALC_STALE_SECONDS", default=3600)
# Recalculation street by street (benefits.recalculate_run_by_street): streets are grouped in order into
# tasks of at least this many entitlements (a task per street of 100 entitlements costs more in task
# overhead than in work).
BENEFITS_PART_SIZE = env.int("BENEFITS_PART_SIZE", default=2000)
# Parts a by-street task recalculates one after another, pipelined (the next part reads and computes while
# the one before is stored and committed): fewer tasks for the workers to share, more of each part's end
# hidden (benchmarks/README.md, "The one transaction in a fresh process, parts pipelined").
BENEFITS_PARTS_PER_TASK = env.int("BENEFITS_PARTS_PER_TASK", default=3)
# One process recalculating a whole run reads, computes and writes it in chunks of this many entitlement
# ids, so that reading the next chunk overlaps writing the previous one (core.benefits.services).
BENEFITS_RUN_CHUNK = env.int("BENEFITS_RUN_CHUNK", default=10000)
# Locked months are re-checked for 补发/扣回 only for what changed since each was calculated
# (core.benefits.services._adjustment_lines); True re-computes every entitlement of every locked month of the
# look-back year (the old way: after a change in a calculator's rules, for one run). The margin is taken off
# each locked run's calculation start: a change saved just before it, committed just after, is re-checked.
BENEFITS_FULL_RECHECK = env.bool("BENEFITS_FULL_RECHECK", default=False)
BENEFITS_RECHECK_MARGIN_SECONDS = env.int("BENEFITS_RECHECK_MARGIN_SECONDS", default=600)
# The queue tasks go to, including those a task sends itself (the per-street parts of a recalculation).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Draft the coming month's payment runs on the 20th of every month at 02:00 (all benefit types).
    "monthly-recalculation": {
        "task": "benefits.recalculate_all_for_next_month",
        "schedule": crontab(minute=0, hour=2, day_of_month=20),
    },
    # Life events: who turned 18 or 80 yesterday or today — bureaus subscribed to them react.
    "detect-birthdays": {
        "task": "registry.detect_birthdays",
        "schedule": crontab(minute=30, hour=1),
    },
    # Report jobs whose worker was lost: failed (with 重试 offered) once silent too long.
    "fail-stale-report-jobs": {
        "task": "reports.fail_stale_jobs",
        "schedule": crontab(minute="*/5"),
    },
    # Imports' uploads left by failed or cancelled attempts: deleted after REPORT_UPLOAD_KEEP_DAYS.
    "purge-old-report-uploads": {
        "task": "reports.purge_old_uploads",
        "schedule": crontab(minute=45, hour=3),
    },
    # 低保 dynamic review: open the reviews falling due within 30 days (daily, idempotent).
    "schedule-dibao-reviews": {
        "task": "assistance.schedule_dibao_reviews",
        "schedule": crontab(minute=0, hour=3),
    },
    # 特困: yearly reviews due, minors reaching 16/18, self-care assessments that change the tier (daily, idempotent).
    "tekun-daily-checks": {
        "task": "assistance.tekun_daily_checks",
        "schedule": crontab(minute=15, hour=3),
    },
    # The dashboard's figures of every scope seen yesterday, computed before the working day (snapshots).
    "warm-dashboard-figures": {
        "task": "portal.warm_dashboard_figures",
        "schedule": crontab(minute=30, hour=6),
    },
}

# Content-Security-Policy (django-csp) in every environment, so that the browser tests run under the
# policy production sends: every script, style, font and image comes from this site's static files — no
# inline <script>, no on…= handler, no style="…" attribute (page behaviour lives in static/js, styles in
# static/css). Bootstrap's CSS draws its icons (select arrow, close button) as data: SVG images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Application log: standard output always (journald / the container runtime keeps it — configure it for
# at least 180 days, see README), and with LOG_DIR one file per day in that directory, kept
# LOG_RETENTION_DAYS days (config.logging.DailyFileHandler). 网络安全法 第二十一条 requires network logs
# to be kept no less than six months: a shorter retention refuses to start.
LOG_DIR = env("LOG_DIR", default="")
LOG_RETENTION_DAYS = env.int("LOG_RETENTION_DAYS", default=MIN_RETENTION_DAYS)
if LOG_RETENTION_DAYS < MIN_RETENTION_DAYS:
    raise ImproperlyConfigured(
        f"LOG_RETENTION_DAYS 不得少于 {MIN_RETENTION_DAYS} 天（网络安全法 第二十一条：网络日志留存不少于六个月）"
    )
LOGGING = logging_config(
    level=env("LOG_LEVEL", default="INFO"),
    log_dir=LOG_DIR,
    retention_days=LOG_RETENTION_DAYS,
    name=env("LOG_FILE_NAME", default="minzheng"),
)
