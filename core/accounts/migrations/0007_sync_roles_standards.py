"""Re-apply core/accounts/roles.py: the 科长 may now enter a new standard (调整标准) of a benefit type of
their section (core.benefits.standards)."""

import importlib

from django.db import migrations

# The same re-sync as 0004: create any missing permissions, then set every role's list from roles.py.
sync_roles = importlib.import_module("core.accounts.migrations.0004_sync_roles").sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_submittedform"),
        ("benefits", "0007_standard_created_by"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
