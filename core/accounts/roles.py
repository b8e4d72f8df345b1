"""Which permissions each role holds. Used by the roles data migration and by `sync_roles`."""

from __future__ import annotations

REGISTRY_EDIT = [
    "registry.view_region",
    "registry.view_household",
    "registry.add_household",
    "registry.change_household",
    "registry.view_person",
    "registry.add_person",
    "registry.change_person",
    "registry.view_membership",
    "registry.add_membership",
    "registry.change_membership",
    "registry.view_incomerecord",
    "registry.add_incomerecord",
    "registry.change_incomerecord",
    "registry.view_assetrecord",
    "registry.add_assetrecord",
    "registry.change_assetrecord",
    "registry.view_attachment",
    "registry.add_attachment",
    "registry.view_lifeevent",
    "registry.add_lifeevent",
]
REGISTRY_VIEW = [p for p in REGISTRY_EDIT if ".view_" in p]
CASE_ENTER = [
    "workflow.view_case",
    "workflow.add_case",
    "workflow.view_publicnotice",
    "workflow.add_publicnotice",
]
BENEFITS_VIEW = [
    "benefits.view_benefittype",
    "benefits.view_standard",
    "benefits.view_parameter",
    "benefits.view_entitlement",
    "benefits.view_paymentrun",
    "benefits.view_paymentline",
]

# 服务设施 (core/facilities): edited by community and street staff in scope and by the district staff of
# the kind's section (checked in core/facilities/services.py); read by 局领导.
FACILITIES_EDIT = [
    "facilities.view_facilitykind",
    "facilities.view_facility",
    "facilities.add_facility",
    "facilities.change_facility",
    "facilities.view_inspection",
    "facilities.add_inspection",
    "facilities.view_hazard",
    "facilities.change_hazard",
]
FACILITIES_VIEW = [p for p in FACILITIES_EDIT if ".view_" in p]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "社区经办人": [
        *REGISTRY_EDIT,
        *CASE_ENTER,
        "benefits.view_entitlement",
        "benefits.view_standard",
        *FACILITIES_EDIT,
    ],
    "街道审核员": [*REGISTRY_EDIT, *CASE_ENTER, "workflow.review_case", *BENEFITS_VIEW, *FACILITIES_EDIT],
    "科室经办人": [
        *REGISTRY_EDIT,
        *CASE_ENTER,
        "workflow.review_case",
        *BENEFITS_VIEW,
        "benefits.recalculate_paymentrun",
        *FACILITIES_EDIT,
        # The section caseworker sends the payment roster (full ID and bank numbers) to the bank; every
        # such export is written to the access log.
        "registry.view_full_personal_data",
    ],
    "科长": [
        *REGISTRY_VIEW,
        "workflow.view_case",
        "workflow.view_publicnotice",
        "workflow.review_case",
        "workflow.approve_case",
        *BENEFITS_VIEW,
        "benefits.recalculate_paymentrun",
        "benefits.lock_paymentrun",
        # 调整标准 (提标) is the section's decision: the 科长 enters it, checked in the type's section.
        "benefits.add_standard",
        "registry.view_full_personal_data",
        *FACILITIES_EDIT,
    ],
    "局领导": [
        *REGISTRY_VIEW,
        "workflow.view_case",
        "workflow.view_publicnotice",
        *BENEFITS_VIEW,
        "registry.view_full_personal_data",
        *FACILITIES_VIEW,
    ],
    "系统管理员": [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_accesslog",
        # Role and permission changes are recorded (权限变更记录); a personal-data permission is asked
        # for by one administrator and approved by another (个人信息权限申请).
        "accounts.view_privilegechange",
        "accounts.view_piigrantrequest",
        "accounts.add_piigrantrequest",
        "accounts.approve_piigrantrequest",
        "accounts.view_section",
        "accounts.add_section",
        "accounts.change_section",
        "accounts.view_sectionrole",
        "accounts.add_sectionrole",
        "accounts.change_sectionrole",
        "accounts.delete_sectionrole",
        "auth.view_group",
        "auth.change_group",
        "registry.view_region",
        "registry.add_region",
        "registry.change_region",
        "benefits.view_benefittype",
        "benefits.change_benefittype",
        "benefits.view_standard",
        "benefits.view_parameter",
        "benefits.add_parameter",
        "benefits.change_parameter",
        "workflow.view_calendarday",
        "workflow.add_calendarday",
        "workflow.change_calendarday",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "facilities.view_facilitykind",
        "facilities.change_facilitykind",
    ],
}


# 队伍建设 (core/staff): which roles of the roster a user may enter is decided per position in
# core/staff/access.py (community/street staff, the section staff of the role's section); 局领导 read only.
STAFF_VIEW = ["staff.view_staffmember", "staff.view_staffposition"]
STAFF_EDIT = [
    *STAFF_VIEW,
    "staff.add_staffmember",
    "staff.change_staffmember",
    "staff.add_staffposition",
    "staff.change_staffposition",
]
for _role in ("社区经办人", "街道审核员", "科室经办人", "科长"):
    ROLE_PERMISSIONS[_role] += STAFF_EDIT
ROLE_PERMISSIONS["局领导"] += STAFF_VIEW


# 探访关爱 (core/visits): community and street staff, and the district staff of the programme's section
# (checked in core/visits/services.py), enrol persons and record visits; 局领导 reads.
VISITS_VIEW = ["visits.view_enrollment", "visits.view_visit"]
VISITS_EDIT = [
    *VISITS_VIEW,
    "visits.add_enrollment",
    "visits.change_enrollment",
    "visits.add_visit",
    "visits.change_visit",
]
for _visits_role in ("社区经办人", "街道审核员", "科室经办人", "科长"):
    ROLE_PERMISSIONS[_visits_role] += VISITS_EDIT
ROLE_PERMISSIONS["局领导"] += VISITS_VIEW


def sync_role_groups(group_model, permission_model, *, missing_ok: bool = False) -> None:
    """Create the role groups and set exactly the permissions listed above.

    Data migrations run this with the list as it is today, at a point of the history where a later model
    (and its permissions) may not exist yet: they pass `missing_ok=True` to skip those, and the migration
    that adds the model syncs again."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perm = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:
                if missing_ok:
                    continue
                raise LookupError(f"permission {name} does not exist")
            perms.append(perm)
        group.permissions.set(perms)
