"""Admin of the settings table: search by key, values shown as indented JSON."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html

from aiidasite.exceptions import AiidaSiteError, InputValidationError
from settingsapp.jsonvalue import validate_json_value
from settingsapp.manager import RESERVED_KEYS, SettingsManager, validate_key
from settingsapp.models import DbSetting


class PrettyJSONFormField(forms.JSONField):
    """A JSON textarea that shows its value indented and with sorted keys."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class DbSettingForm(forms.ModelForm):
    val = PrettyJSONFormField(
        required=False, widget=forms.Textarea(attrs={"rows": 12, "cols": 80})
    )

    class Meta:
        model = DbSetting
        fields = ("key", "val", "description")

    def clean_key(self) -> str:
        try:
            key = validate_key(self.cleaned_data["key"])
            SettingsManager().check_writable(key)
        except AiidaSiteError as exc:
            raise ValidationError(str(exc)) from None
        return key

    def clean_val(self) -> Any:
        value = self.cleaned_data["val"]
        try:
            validate_json_value(value)
        except InputValidationError as exc:
            raise ValidationError(str(exc)) from None
        return value


@admin.register(DbSetting)
class DbSettingAdmin(admin.ModelAdmin):
    form = DbSettingForm
    list_display = ("key", "short_value", "description", "time")
    search_fields = ("key",)
    ordering = ("key",)
    readonly_fields = ("pretty_value", "time")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A key is the setting's identity: renaming would be a delete and an add.
        if obj is not None:
            return ("key", *self.readonly_fields)
        return self.readonly_fields

    # The schema manager's own keys are shown, never edited or deleted here.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.key in RESERVED_KEYS:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.key in RESERVED_KEYS:
            return False
        return super().has_delete_permission(request, obj)

    # Writes go through the manager, as from the API and the command: one
    # upsert, one set of rules.
    def save_model(
        self, request: HttpRequest, obj: DbSetting, form: Any, change: bool
    ) -> None:
        stored = SettingsManager().set(obj.key, obj.val, obj.description or "")
        # The admin's messages and redirects need the row it did not save.
        obj.pk = DbSetting.objects.values_list("pk", flat=True).get(key=obj.key)
        obj.time = stored.time

    def delete_model(self, request: HttpRequest, obj: DbSetting) -> None:
        SettingsManager().delete(obj.key)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        manager = SettingsManager()
        for key in queryset.values_list("key", flat=True):
            manager.delete(key)

    @admin.display(description="value")
    def short_value(self, obj: DbSetting) -> str:
        text = json.dumps(obj.val, ensure_ascii=False)
        return text if len(text) <= 80 else text[:77] + "..."

    @admin.display(description="value (formatted)")
    def pretty_value(self, obj: DbSetting) -> str:
        text = json.dumps(obj.val, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html("<pre>{}</pre>", text)
