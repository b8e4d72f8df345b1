"""The administrators' privileges (issue 12, items 1–3).

1. A 系统管理员 changes none of its own privileges (superuser, staff, roles, section roles, permissions,
   region), adds no personal-data permission to a user or role in the admin — that takes another
   administrator's approval of a request, or the command line — and every change is recorded.
2. User administration is scoped by region: an administrator of one district lists, edits and assigns only
   users and regions of its district.
3. The access log (page and admin) is scoped by the region of what was seen."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from core.accounts.models import AccessLog, PiiGrantRequest, PrivilegeChange, Section, SectionRole, User
from core.registry import services as registry_services
from tests.factories import household_with_members, region_tree

PII = "registry.view_full_personal_data"


def pii_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="registry", codename="view_full_personal_data")


@pytest.fixture
def other_district(db):
    return region_tree("220107000000")


@pytest.fixture
def admin_user(make_user):
    return make_user("系统管理员", region="district", is_staff=True, username="admin1")


@pytest.fixture
def second_admin(make_user):
    return make_user("系统管理员", region="district", is_staff=True, username="admin2")


@pytest.fixture
def other_admin(make_user, other_district):
    admin = make_user("系统管理员", region=None, is_staff=True, username="admin_220107")
    admin.region = other_district["district"]
    admin.save(update_fields=["region"])
    return admin


def user_form_data(user: User, **changes) -> dict:
    """The POST of the admin's user change form, as the page would send it unchanged, with `changes`."""
    data = {
        "username": user.username,
        "display_name": user.display_name,
        "job_title": user.job_title,
        "phone": user.phone,
        "email": user.email,
        "region": user.region_id or "",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "user_permissions": list(user.user_permissions.values_list("pk", flat=True)),
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": timezone.localtime(user.date_joined).strftime("%Y-%m-%d"),
        "date_joined_1": timezone.localtime(user.date_joined).strftime("%H:%M:%S"),
        "section_roles-TOTAL_FORMS": "0",
        "section_roles-INITIAL_FORMS": "0",
        "section_roles-MIN_NUM_FORMS": "0",
        "section_roles-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def group_form_data(group: Group, permissions) -> dict:
    return {"name": group.name, "permissions": [p.pk for p in permissions], "_save": "保存"}


def fresh(user: User) -> User:
    """The user as a new request sees it (no permission or role cache)."""
    return User.objects.get(pk=user.pk)


# --- 1. no self-grant, no PII grant in the admin, every change recorded ----------------------------------


def test_admin_cannot_make_itself_superuser_or_give_itself_roles(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    assert client.get(url).status_code == 200
    chief = Group.objects.get(name="科长")
    data = user_form_data(
        admin_user,
        is_superuser="on",
        groups=[*admin_user.groups.values_list("pk", flat=True), chief.pk],
        user_permissions=[pii_permission().pk],
    )
    response = client.post(url, data)
    assert response.status_code == 302  # the other fields save; the privilege fields are read-only
    admin_user = fresh(admin_user)
    assert not admin_user.is_superuser
    assert admin_user.role_names == ["系统管理员"]
    assert not admin_user.user_permissions.exists()
    assert not admin_user.has_perm(PII)
    assert not PrivilegeChange.objects.exists()


def test_admin_cannot_give_itself_a_section_role(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    data = user_form_data(
        admin_user,
        **{
            "section_roles-TOTAL_FORMS": "1",
            "section_roles-0-section": Section.objects.get(code="assistance").pk,
            "section_roles-0-role": "科长",
            "section_roles-0-user": admin_user.pk,
            "section_roles-0-id": "",
        },
    )
    client.post(url, data)
    assert not SectionRole.objects.filter(user=admin_user).exists()


def test_admin_cannot_make_another_user_superuser(client, admin_user, make_user):
    clerk = make_user("社区经办人")
    client.force_login(admin_user)
    client.post(
        reverse("admin:accounts_user_change", args=[clerk.pk]), user_form_data(clerk, is_superuser="on")
    )
    assert not fresh(clerk).is_superuser


def test_admin_may_not_give_a_user_the_pii_permission_directly(client, admin_user, make_user):
    clerk = make_user("社区经办人")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_change", args=[clerk.pk]),
        user_form_data(clerk, user_permissions=[pii_permission().pk]),
    )
    assert response.status_code == 200
    assert "个人信息权限" in response.content.decode()
    assert not fresh(clerk).has_perm(PII)


def test_admin_may_not_add_the_pii_permission_to_a_role(client, admin_user):
    group = Group.objects.get(name="社区经办人")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        group_form_data(group, [*group.permissions.all(), pii_permission()]),
    )
    assert response.status_code == 200
    assert "个人信息权限" in response.content.decode()
    assert "grant_pii_access" in response.content.decode()
    assert not group.permissions.filter(pk=pii_permission().pk).exists()


def test_admin_changes_no_role_it_holds(client, admin_user):
    own = Group.objects.get(name="系统管理员")
    client.force_login(admin_user)
    extra = Permission.objects.get(content_type__app_label="auth", codename="delete_group")
    response = client.post(
        reverse("admin:auth_group_change", args=[own.pk]),
        group_form_data(own, [*own.permissions.all(), extra]),
    )
    assert response.status_code == 403
    assert not own.permissions.filter(pk=extra.pk).exists()


def test_role_permission_changes_are_recorded(client, admin_user):
    group = Group.objects.get(name="社区经办人")
    extra = Permission.objects.get(content_type__app_label="benefits", codename="view_paymentrun")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        group_form_data(group, [*group.permissions.all(), extra]),
    )
    assert response.status_code == 302
    change = PrivilegeChange.objects.get()
    assert (change.actor, change.group, change.what, change.via) == (admin_user, group, "角色权限", "admin")
    assert "benefits.view_paymentrun" in change.new_value
    assert "benefits.view_paymentrun" not in change.old_value


def test_role_and_section_role_changes_are_recorded(client, admin_user, make_user):
    clerk = make_user("社区经办人")
    client.force_login(admin_user)
    data = user_form_data(
        clerk,
        groups=[Group.objects.get(name="街道审核员").pk],
        **{
            "section_roles-TOTAL_FORMS": "1",
            "section_roles-0-section": Section.objects.get(code="assistance").pk,
            "section_roles-0-role": "科室经办人",
            "section_roles-0-user": clerk.pk,
            "section_roles-0-id": "",
        },
    )
    response = client.post(reverse("admin:accounts_user_change", args=[clerk.pk]), data)
    assert response.status_code == 302
    changes = {c.what: c for c in PrivilegeChange.objects.filter(user=clerk)}
    assert set(changes) == {"角色", "科室角色"}
    assert (changes["角色"].old_value, changes["角色"].new_value) == ("社区经办人", "街道审核员")
    assert (changes["科室角色"].old_value, changes["科室角色"].new_value) == ("", "社会救助科 科室经办人")
    assert all(c.actor == admin_user and c.at is not None for c in changes.values())
    assert changes["角色"].region_code == clerk.region.code


def test_privilege_record_is_read_only_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:accounts_privilegechange_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_privilegechange_add")).status_code == 403


def _request_pii(client, admin, **target) -> PiiGrantRequest:
    client.force_login(admin)
    data = {"permission": pii_permission().pk, "reason": "负责低保花名册报送", "_save": "保存"}
    data.update({k: v.pk for k, v in target.items()})
    response = client.post(reverse("admin:accounts_piigrantrequest_add"), data)
    assert response.status_code == 302, response.content.decode()
    return PiiGrantRequest.objects.latest("pk")


def _decide(client, admin, grant_request, action="approve"):
    client.force_login(admin)
    return client.post(
        reverse("admin:accounts_piigrantrequest_changelist"),
        {"action": action, "_selected_action": [grant_request.pk]},
        follow=True,
    )


def test_pii_permission_needs_a_second_administrators_approval(client, admin_user, second_admin, make_user):
    clerk = make_user("社区经办人")
    grant_request = _request_pii(client, admin_user, user=clerk)
    assert grant_request.status == PiiGrantRequest.Status.PENDING
    assert grant_request.requested_by == admin_user
    assert not fresh(clerk).has_perm(PII)

    # the one who asked cannot approve
    page = _decide(client, admin_user, grant_request).content.decode()
    assert "不能批准自己提出的申请" in page
    grant_request.refresh_from_db()
    assert grant_request.status == PiiGrantRequest.Status.PENDING
    assert not fresh(clerk).has_perm(PII)

    # a second administrator does
    _decide(client, second_admin, grant_request)
    grant_request.refresh_from_db()
    assert (grant_request.status, grant_request.decided_by) == ("approved", second_admin)
    assert fresh(clerk).has_perm(PII)
    change = PrivilegeChange.objects.get(user=clerk)
    assert (change.actor, change.via, change.what) == (second_admin, "approval", "其他权限")
    assert change.new_value == PII and change.old_value == ""


def test_pii_request_for_an_administrators_own_role_is_not_approved_by_its_members(
    client, admin_user, second_admin
):
    own = Group.objects.get(name="系统管理员")
    grant_request = _request_pii(client, admin_user, group=own)
    page = _decide(client, second_admin, grant_request).content.decode()
    assert "您属于该角色" in page
    assert not own.permissions.filter(pk=pii_permission().pk).exists()
    assert not fresh(second_admin).has_perm(PII)


def test_pii_request_for_oneself_is_approved_by_another_only(client, admin_user, second_admin):
    grant_request = _request_pii(client, admin_user, user=admin_user)
    _decide(client, admin_user, grant_request)
    assert not fresh(admin_user).has_perm(PII)
    _decide(client, second_admin, grant_request, action="reject")
    grant_request.refresh_from_db()
    assert grant_request.status == PiiGrantRequest.Status.REJECTED
    assert not fresh(admin_user).has_perm(PII)


def test_grant_pii_access_command_records_who_ran_it(make_user):
    clerk = make_user("社区经办人")
    call_command("grant_pii_access", user=clerk.username, operator="运维 李四", reason="工单 2026-118")
    assert fresh(clerk).has_perm(PII)
    change = PrivilegeChange.objects.get(user=clerk)
    assert change.via == PrivilegeChange.Via.COMMAND and change.actor is None
    assert "运维 李四" in change.detail and "工单 2026-118" in change.detail

    call_command("grant_pii_access", user=clerk.username, operator="运维 李四", reason="调岗", revoke=True)
    assert not fresh(clerk).has_perm(PII)
    assert PrivilegeChange.objects.filter(user=clerk).count() == 2

    with pytest.raises(CommandError):
        call_command("grant_pii_access", user="nobody", operator="运维 李四", reason="x")


# --- 2. user administration scoped by region ------------------------------------------------------------


def test_user_list_and_edit_are_scoped_to_the_district(
    client, admin_user, other_admin, make_user, other_district
):
    make_user("社区经办人", username="home_clerk")
    away_clerk = make_user("社区经办人", region=None, username="away_clerk")
    away_clerk.region = other_district["community11"]
    away_clerk.save(update_fields=["region"])
    root = make_user(region=None, username="root_user", is_superuser=True, is_staff=True)

    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "home_clerk" in page
    assert "away_clerk" not in page and "admin_220107" not in page and "root_user" not in page
    # another district's user (and a superuser) is as missing: the admin sends back to its index
    for user in (away_clerk, root):
        response = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index")
        response = client.post(
            reverse("admin:accounts_user_change", args=[user.pk]), user_form_data(user, display_name="改名")
        )
        assert fresh(user).display_name != "改名"

    client.force_login(other_admin)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "away_clerk" in page and "home_clerk" not in page and "admin1" not in page


def test_admin_assigns_only_regions_of_its_district(client, admin_user, make_user, other_district, regions):
    clerk = make_user("社区经办人")
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    response = client.post(url, user_form_data(clerk, region=other_district["community11"].pk))
    assert response.status_code == 200
    assert fresh(clerk).region == regions["community11"]
    # a region inside the district is fine, and the change of scope is recorded
    response = client.post(url, user_form_data(clerk, region=regions["community21"].pk))
    assert response.status_code == 302
    assert fresh(clerk).region == regions["community21"]
    change = PrivilegeChange.objects.get(user=clerk, what="所属区划（数据范围）")
    assert (change.old_value, change.new_value) == (regions["community11"].name, regions["community21"].name)


def test_admin_creates_users_only_in_its_district(client, admin_user, other_district):
    client.force_login(admin_user)
    data = {
        "username": "newcomer",
        "display_name": "新同事",
        "region": other_district["community11"].pk,
        "groups": [Group.objects.get(name="社区经办人").pk],
        "password1": "Xk2#mq9Lp!vz",
        "password2": "Xk2#mq9Lp!vz",
        "_save": "保存",
    }
    response = client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert not User.objects.filter(username="newcomer").exists()


# --- 3. the access log scoped by the region of what was seen ----------------------------------------------


@pytest.fixture
def reveals(make_user, regions, other_district):
    """One reveal of a person in each district, each by a 科长 of that district."""
    home = household_with_members(regions["community11"], size=1)
    away = household_with_members(other_district["community11"], size=1)
    home_chief = make_user("科长", region="district", username="home_chief")
    away_chief = make_user("科长", region=None, username="away_chief")
    away_chief.region = other_district["district"]
    away_chief.save(update_fields=["region"])
    registry_services.personal_data_reveal(actor=home_chief, ip="10.0.0.1", person=home.head)
    registry_services.personal_data_reveal(actor=fresh(away_chief), ip="10.0.0.2", person=away.head)
    return home, away


def test_access_log_page_shows_the_district_only(client, admin_user, other_admin, reveals):
    home, away = reveals
    assert AccessLog.objects.count() == 2
    assert set(AccessLog.objects.values_list("region_code", flat=True)) == {
        home.region_code,
        away.region_code,
    }
    client.force_login(admin_user)
    page = client.get(reverse("accounts:access_log")).content.decode()
    assert home.head.name in page and away.head.name not in page
    client.force_login(other_admin)
    page = client.get(reverse("accounts:access_log")).content.decode()
    assert away.head.name in page and home.head.name not in page


def test_access_log_admin_shows_the_district_only(client, admin_user, reveals):
    home, away = reveals
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_accesslog_changelist")).content.decode()
    assert "home_chief" in page or home.head.name in page
    assert away.head.name not in page and "away_chief" not in page
    away_log = AccessLog.objects.get(person=away.head)
    response = client.get(reverse("admin:accounts_accesslog_change", args=[away_log.pk]))
    assert response.status_code == 302


# --- roles that open personal data, and passwords ----------------------------------------------------------


@pytest.mark.parametrize("role", ["科室经办人", "科长", "局领导"])
def test_admin_may_not_put_a_user_into_a_role_that_opens_personal_data(client, admin_user, make_user, role):
    clerk = make_user("社区经办人")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_change", args=[clerk.pk]),
        user_form_data(clerk, groups=[Group.objects.get(name=role).pk]),
    )
    assert response.status_code == 200
    assert f"角色“{role}”含个人信息权限" in response.content.decode()
    assert list(fresh(clerk).groups.values_list("name", flat=True)) == ["社区经办人"]
    assert not fresh(clerk).has_perm(PII)
    assert not PrivilegeChange.objects.filter(user=clerk).exists()


def test_admin_may_not_create_a_user_in_a_role_that_opens_personal_data(client, admin_user, regions):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "new_kezhang",
            "display_name": "新科长",
            "region": regions["district"].pk,
            "groups": [Group.objects.get(name="科长").pk],
            "password1": "Lvyuan-Mz-2026!x",
            "password2": "Lvyuan-Mz-2026!x",
            "_save": "保存",
        },
    )
    assert response.status_code == 200
    assert "含个人信息权限" in response.content.decode()
    assert not User.objects.filter(username="new_kezhang").exists()


def test_joining_such_a_role_takes_a_second_administrators_approval(
    client, admin_user, second_admin, make_user
):
    clerk = make_user("社区经办人")
    kezhang = Group.objects.get(name="科长")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_piigrantrequest_add"),
        {"user": clerk.pk, "role": kezhang.pk, "reason": "任命为社会救助科科长", "_save": "保存"},
    )
    assert response.status_code == 302, response.content.decode()
    grant_request = PiiGrantRequest.objects.latest("pk")
    assert (grant_request.role, grant_request.permission) == (kezhang, None)
    assert "加入角色“科长”" in str(grant_request)
    assert not fresh(clerk).has_perm(PII)

    assert "不能批准自己提出的申请" in _decide(client, admin_user, grant_request).content.decode()
    assert not fresh(clerk).groups.filter(pk=kezhang.pk).exists()

    _decide(client, second_admin, grant_request)
    grant_request.refresh_from_db()
    assert grant_request.status == PiiGrantRequest.Status.APPROVED
    assert fresh(clerk).groups.filter(pk=kezhang.pk).exists() and fresh(clerk).has_perm(PII)
    change = PrivilegeChange.objects.get(user=clerk)
    assert (change.actor, change.via, change.what) == (second_admin, "approval", "角色")
    assert (change.old_value, change.new_value) == ("社区经办人", "社区经办人、科长")


def test_a_role_request_for_a_role_without_personal_data_is_refused(client, admin_user, make_user):
    clerk = make_user("社区经办人")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_piigrantrequest_add"),
        {"user": clerk.pk, "role": Group.objects.get(name="街道审核员").pk, "reason": "x", "_save": "保存"},
    )
    assert response.status_code == 200  # the form offers only the roles that open personal data
    assert response.context["adminform"].form.errors["role"]
    assert not PiiGrantRequest.objects.exists()
    from core.accounts import services

    problem = services.pii_grant_request_problem(
        actor=admin_user, permission=None, user=clerk, group=None, role=Group.objects.get(name="街道审核员")
    )
    assert "不含个人信息权限，无需申请" in problem


def test_grant_pii_access_command_puts_a_user_into_a_role(make_user):
    clerk = make_user("社区经办人")
    call_command(
        "grant_pii_access",
        user=clerk.username,
        role="科长",
        operator="运维 李四",
        reason="任命文件 绿民〔2026〕9号",
    )
    assert fresh(clerk).groups.filter(name="科长").exists()
    change = PrivilegeChange.objects.get(user=clerk)
    assert (change.via, change.what) == (PrivilegeChange.Via.COMMAND, "角色") and "绿民" in change.detail
    call_command(
        "grant_pii_access", user=clerk.username, role="科长", operator="运维 李四", reason="调岗", revoke=True
    )
    assert not fresh(clerk).groups.filter(name="科长").exists()
    with pytest.raises(CommandError, match="不含个人信息权限"):
        call_command("grant_pii_access", user=clerk.username, role="街道审核员", operator="运维", reason="x")
    with pytest.raises(CommandError, match="--user"):
        call_command("grant_pii_access", group="科长", role="科长", operator="运维", reason="x")


def _password_post(client, user):
    return client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "Lvyuan-Mz-2026!y", "password2": "Lvyuan-Mz-2026!y"},
    )


@pytest.mark.parametrize("role", ["科室经办人", "科长", "局领导"])
def test_admin_may_not_set_the_password_of_an_account_that_opens_personal_data(
    client, admin_user, make_user, role
):
    holder = make_user(role, region="district")
    before = fresh(holder).password
    client.force_login(admin_user)
    response = client.get(reverse("admin:auth_user_password_change", args=[holder.pk]))
    assert response.status_code == 403
    assert "不能在此重设其密码" in response.content.decode()
    assert _password_post(client, holder).status_code == 403
    assert fresh(holder).password == before


def test_admin_sets_other_passwords_and_it_is_recorded(client, admin_user, make_user):
    clerk = make_user("社区经办人")
    client.force_login(admin_user)
    response = _password_post(client, clerk)
    assert response.status_code == 302
    assert fresh(clerk).check_password("Lvyuan-Mz-2026!y")
    change = PrivilegeChange.objects.get(user=clerk)
    assert (change.actor, change.what, change.new_value) == (admin_user, "密码", "由管理员重设")
