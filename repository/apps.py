from django.apps import AppConfig


class RepositoryConfig(AppConfig):
    name = "repository"
    verbose_name = "File repository"

    def ready(self) -> None:
        # Connects the receiver that drops the cached backend on setting changes.
        from repository import handler  # noqa: F401
