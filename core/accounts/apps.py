from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "core.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from .navigation import NavItem, register_nav

        register_nav(
            "admin",
            "系统管理",
            NavItem("个人信息查阅记录", "accounts:access_log", "shield-lock", "accounts.view_accesslog"),
            order=900,
        )
        register_nav(
            "admin",
            "系统管理",
            NavItem("用户、区划与标准", "admin:index", "gear", "accounts.view_user"),
            order=900,
        )
