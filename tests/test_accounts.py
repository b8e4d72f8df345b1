import datetime
import os
import subprocess
import sys

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.accounts.models import AccessLog, User
from core.registry.models import Household, Person, Region
from tests.production import production_env


@pytest.mark.django_db
def test_roles_exist_with_permissions():
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert {"社区经办人", "街道审核员", "科室经办人", "科长", "局领导", "系统管理员"} <= names
    chief = Group.objects.get(name="科长")
    assert chief.permissions.filter(codename="approve_case").exists()
    assert not Group.objects.get(name="社区经办人").permissions.filter(codename="approve_case").exists()


@pytest.mark.django_db
def test_login_page_is_chinese(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_lockout_after_repeated_failures(client, make_user):
    user = make_user("社区经办人", username="lockme")
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "lockme", "password": "wrong-Passw0rd"})
    # The right password no longer works while locked; the page says so in Chinese.
    response = client.post("/accounts/login/", {"username": "lockme", "password": "Passw0rd-2026"})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.django_db
def test_successful_login_reaches_dashboard(client, make_user):
    make_user("社区经办人", username="good")
    response = client.post("/accounts/login/", {"username": "good", "password": "Passw0rd-2026"}, follow=True)
    assert response.status_code == 200
    assert "工作台" in response.content.decode()


def test_session_expires_when_idle(settings, client, make_user):
    from django.contrib.sessions.models import Session

    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_REFRESH_SECONDS <= 60
    client.force_login(make_user("社区经办人"))
    key = client.session.session_key
    # The login stamped the session: the pages right after it write nothing
    refreshed = Session.objects.get(session_key=key).expire_date
    client.get("/")
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date == refreshed
    # A request after the refresh interval slides the idle expiry forward
    session = client.session
    session["_refreshed"] = int(session["_refreshed"]) - settings.SESSION_REFRESH_SECONDS
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=refreshed - datetime.timedelta(minutes=5))
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date > refreshed - datetime.timedelta(minutes=5)
    # An idle session past its expiry is logged out
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "password,ok",
    [
        ("short1", False),
        ("abcdefghijkl", False),
        ("123456789012", False),
        ("password123", False),
        ("Gq7vP2mXr9", True),
    ],
)
def test_password_rules(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_production_refuses_to_start_without_essentials():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_shares_a_redis_cache():
    env = production_env(
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        CACHE_URL="redis://127.0.0.1:6379/12",
    )
    code = (
        "import django; django.setup(); from django.core.cache import cache; "
        "from django.core.cache import caches; backend = caches['default']; "
        "cache.set('probe', 41); print(type(backend).__name__, cache.get('probe') + 1); cache.delete('probe')"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["RedisCache", "42"]


@pytest.mark.django_db
def test_dashboard_shows_area_counts(client, make_user, regions):
    from tests.factories import household_with_members

    household_with_members(regions["community11"], size=3)
    household_with_members(regions["community21"], size=2)
    user = make_user("社区经办人", region="community11")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["households"] == 1
    assert response.context["persons"] == 3


@pytest.mark.django_db
def test_access_log_page_requires_permission(client, make_user):
    client.force_login(make_user("社区经办人"))
    assert client.get(reverse("accounts:access_log")).status_code == 403
    admin = make_user("系统管理员", region="district")
    AccessLog.objects.create(user=admin, action="reveal", fields="身份证号码", region_code=admin.region.code)
    client.force_login(admin)
    response = client.get(reverse("accounts:access_log"), {"q": admin.username})
    assert response.status_code == 200
    assert "身份证号码" in response.content.decode()


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", households=60, quiet_accounts=True)
    counts = (Region.objects.count(), User.objects.count(), Household.objects.count(), Person.objects.count())
    call_command("seed_demo", households=60, quiet_accounts=True)
    assert counts == (
        Region.objects.count(),
        User.objects.count(),
        Household.objects.count(),
        Person.objects.count(),
    )
    assert counts[2] == 60
    sq = User.objects.get(username="sq0101")
    assert sq.region.code == "220106001001"
    assert sq.check_password("Minzheng2026")
    # Every demo person carries a valid ID number and a region inside the district.
    from core.registry.idnumbers import parse_ric

    for person in Person.objects.all()[:200]:
        assert parse_ric(person.id_number).birth_date == person.birth_date
        assert person.region_code.startswith("220106")
