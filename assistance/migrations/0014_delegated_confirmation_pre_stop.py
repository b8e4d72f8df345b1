"""Placeholder reserved in the migration chain; its work fills the operations."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("assistance", "0013_tekun_lifecycle")]

    operations = []
