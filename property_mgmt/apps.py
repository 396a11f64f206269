from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PropertyMgmtConfig(AppConfig):
    name = "property_mgmt"
    verbose_name = _("Property management")
