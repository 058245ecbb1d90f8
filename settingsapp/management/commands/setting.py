"""``manage.py setting list|get|set|delete``: the settings table from the shell."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.connection import ConnectionDoesNotExist

from aiidasite.exceptions import AiidaSiteError
from aiidasite.limits import MAX_JSON_DEPTH
from settingsapp.manager import Setting, SettingsManager

# Text that starts like JSON must be valid JSON: storing "{bad" as a string
# would hide a typo.
JSON_OPENERS = ("{", "[", '"')


def parse_value(text: str) -> Any:
    """VALUE as JSON, or as the string itself when it is not JSON.

    :raises CommandError: if ``text`` starts like a JSON object, array or
        string but does not parse.
    """
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise CommandError(
            f"VALUE nests deeper than {MAX_JSON_DEPTH} levels of lists and objects"
        ) from None
    except ValueError as exc:
        if text.lstrip().startswith(JSON_OPENERS):
            raise CommandError(
                f"VALUE {text!r} is not valid JSON ({exc}); quote it as a JSON "
                f"string to store it as text"
            ) from None
        return text


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON: keep them as the words they are.
    raise ValueError(f"{name} is not JSON")


def dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


class Command(BaseCommand):
    help = (
        "List, read, write and delete settings (the db_dbsetting table). "
        "VALUE is parsed as JSON, falling back to a plain string."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="list every setting")
        listing.add_argument("--format", choices=["text", "json"], default="text")
        get = actions.add_parser("get", help="print one setting's value")
        get.add_argument("key")
        get.add_argument("--format", choices=["text", "json"], default="text")
        put = actions.add_parser("set", help="create or update a setting")
        put.add_argument("key")
        put.add_argument("value", help="a JSON value, or any other text")
        put.add_argument("--description", default=None)
        delete = actions.add_parser("delete", help="delete a setting")
        delete.add_argument("key")
        delete.add_argument(
            "--dry-run", action="store_true", help="say what would be deleted"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        manager = SettingsManager(using=options["database"])
        handler = getattr(self, f"handle_{options['action']}")
        try:
            manager.validate_table_existence()
            handler(manager, options)
        except (AiidaSiteError, ConnectionDoesNotExist) as exc:
            raise CommandError(str(exc)) from None

    def handle_list(self, manager: SettingsManager, options: dict[str, Any]) -> None:
        settings = manager.all()
        if options["format"] == "json":
            self.stdout.write(dump([setting.as_dict() for setting in settings]))
            return
        width = max((len(setting.key) for setting in settings), default=3)
        self.stdout.write(f"{'key':<{width}}  value  [description]")
        for setting in settings:
            self.stdout.write(self._line(setting, width))

    def _line(self, setting: Setting, width: int) -> str:
        line = f"{setting.key:<{width}}  {dump(setting.value)}"
        return f"{line}  [{setting.description}]" if setting.description else line

    def handle_get(self, manager: SettingsManager, options: dict[str, Any]) -> None:
        setting = manager.get(options["key"])
        data = setting.as_dict() if options["format"] == "json" else setting.value
        self.stdout.write(dump(data))

    def handle_set(self, manager: SettingsManager, options: dict[str, Any]) -> None:
        value = parse_value(options["value"])
        setting = manager.set(options["key"], value, options["description"])
        self.stdout.write(f"{setting.key} = {dump(setting.value)}")

    def handle_delete(self, manager: SettingsManager, options: dict[str, Any]) -> None:
        if options["dry_run"]:
            setting = manager.get(options["key"])
            self.stdout.write(f"would delete {setting.key}")
            return
        manager.delete(options["key"])
        self.stdout.write(f"deleted {options['key']}")
