"""AiiDA's JSON-based archive formats, ``0.1`` to ``0.13``.

Such an archive is a zip or a tar.gz holding ``metadata.json``, ``data.json``
(every entity as JSON, nodes' attributes and extras beside them, links and
group memberships by UUID) and one folder per node,
``nodes/<uuid[:2]>/<uuid[2:4]>/<uuid[4:]>/{path,raw_input}/...``, with its
files. ``reader.LegacyArchiveReader`` converts one into the ``main_0001``
tables and a SHA-256 keyed view of its files, as aiida-core's archive
migrations do, so the importer and ``archive migrate`` treat it like any
current archive.
"""
