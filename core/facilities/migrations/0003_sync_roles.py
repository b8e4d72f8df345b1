"""Re-apply core/accounts/roles.py now that the facilities permissions exist."""

import importlib

from django.db import migrations

sync_roles = importlib.import_module("core.accounts.migrations.0004_sync_roles").sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("facilities", "0002_seed_kinds"),
        ("accounts", "0008_privilege_changes_pii_requests_accesslog_region"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
