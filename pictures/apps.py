from django.apps import AppConfig


class PicturesConfig(AppConfig):
    """Pictures of the graph and its data: provenance graphs, structures,
    band structures, and the pages that show them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "pictures"
