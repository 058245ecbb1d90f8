"""aiida-core's own REST API as a WSGI application, for gunicorn.

``posting=True`` serves ``/querybuilder/`` too, as ``verdi restapi --posting``.
"""

from aiida import load_profile
from aiida.restapi.run_api import configure_api

load_profile()
app = configure_api(catch_internal_server=False, posting=True).app
