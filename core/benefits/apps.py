from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "core.benefits"
    label = "benefits"
    verbose_name = "待遇发放"
