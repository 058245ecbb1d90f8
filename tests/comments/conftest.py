"""The small graph with computers, comments and logs these tests share."""

from tests.related_graph import author, graph  # noqa: F401
