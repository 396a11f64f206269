from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-wide pieces that are not a domain app: the embedded runner, health, home."""

    name = "config"
    verbose_name = "Linli"
