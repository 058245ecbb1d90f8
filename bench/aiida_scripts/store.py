"""Store N Dict nodes with ten attributes one by one, in one transaction."""

import sys

from aiida import orm
from common import STORAGE, once, report

n = int(sys.argv[1])
attributes = sys.argv[2]


def store() -> int:
    import json

    template = json.loads(attributes)
    with STORAGE.transaction():
        for i in range(n):
            orm.Dict({**template, "value": i}).store()
    return n


seconds, stored = once(store)
report(seconds, stored=stored)
