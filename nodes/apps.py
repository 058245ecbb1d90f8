from django.apps import AppConfig


class NodesConfig(AppConfig):
    name = "nodes"
    verbose_name = "Provenance graph"

    def ready(self) -> None:
        # `repository maintain` keeps exactly the objects some node references.
        from nodes.files import referenced_keys
        from repository.services import register_reference_provider

        register_reference_provider(referenced_keys)
