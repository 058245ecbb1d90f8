from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    """Processes as verdi shows them: state, exit status, callers and calls."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "processes"
