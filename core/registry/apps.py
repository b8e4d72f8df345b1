from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "core.registry"
    label = "registry"
    verbose_name = "户籍与人员"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from core import lookups
        from core.accounts.navigation import NavItem, register_nav
        from core.registry import household_kept

        lookups.register()  # `field__any_of=ids` for the set-based readers (core/lookups.py)
        # SQLite drops a table's triggers when a migration remakes it: the kept columns' are put back.
        post_migrate.connect(household_kept.ensure_sqlite_triggers, sender=self)

        section = ("registry", "户籍与人员")
        register_nav(
            *section, NavItem("人员查询", "registry:search", "search", "registry.view_person"), order=10
        )
        register_nav(
            *section,
            NavItem("家庭档案", "registry:household_list", "people", "registry.view_household"),
            order=10,
        )
        register_nav(
            *section,
            NavItem("新增家庭", "registry:household_create", "person-plus", "registry.add_household"),
            order=10,
        )
