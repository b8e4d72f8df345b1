"""Re-apply core/accounts/roles.py: the visit permissions (探访关爱) reach the role groups."""

import importlib

from django.db import migrations

sync_roles = importlib.import_module("core.accounts.migrations.0004_sync_roles").sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_privilege_changes_pii_requests_accesslog_region"),
        ("visits", "0002_visit_parameters"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
