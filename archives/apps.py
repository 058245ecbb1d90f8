from django.apps import AppConfig
from django.core import checks


class ArchivesConfig(AppConfig):
    name = "archives"
    verbose_name = "AiiDA archives"

    def ready(self) -> None:
        from archives.checks import check_archive_settings

        checks.register(check_archive_settings, "archives")
