"""aiidasite: an AiiDA provenance graph served by Django."""

# The release, as pyproject.toml names it; archives record it.
__version__ = "0.1.0"
