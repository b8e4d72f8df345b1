"""Re-apply core/accounts/roles.py: the roles' permissions on the staff roster (队伍建设)."""

import importlib

from django.db import migrations

# The same re-sync as accounts 0004: create any missing permissions, then set every role's list from roles.py.
sync_roles = importlib.import_module("core.accounts.migrations.0004_sync_roles").sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("accounts", "0008_privilege_changes_pii_requests_accesslog_region"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
