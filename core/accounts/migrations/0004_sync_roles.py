"""Re-apply core/accounts/roles.py to the role groups (科室经办人 may now export full personal data for the
bank roster). Each later change of ROLE_PERMISSIONS gets a migration like this one."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def sync_roles(apps, schema_editor):
    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0, apps=apps)
    from core.accounts.roles import sync_role_groups

    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), missing_ok=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_roles"),
        ("registry", "0003_household_number_prefix_index"),
        ("workflow", "0004_transitionlog_immutable"),
        ("benefits", "0004_line_fk_indexes"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
