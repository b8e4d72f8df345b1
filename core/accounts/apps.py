from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "core.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import stamp_session_on_login
        from .navigation import NavItem, register_nav

        user_logged_in.connect(stamp_session_on_login, dispatch_uid="accounts.stamp_session_on_login")

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
