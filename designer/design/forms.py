"""Forms built from a connector's fields, so any connector gets its connection form and its
activity wizard without code of its own."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.utils import timezone

from connectors.base import ActivityType, Connector, Field, FieldKind
from designer.design.models import component_name
from designer.design.picker_widget import PickerInput

CLEAR_PREFIX = "clear__"
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> shows


def _list_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class ListField(forms.CharField):
    """A free list of strings, comma separated in the form, a list in the config."""

    def prepare_value(self, value: Any) -> str:
        return _list_value(value)

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        return [part.strip() for part in text.split(",") if part.strip()]


def form_field(spec: Field, *, secret_is_set: bool = False) -> forms.Field:
    """The Django form field for one connector ``Field``."""
    common: dict[str, Any] = {
        "label": spec.label,
        "required": spec.required,
        "help_text": spec.help,
    }
    if spec.default is not None and spec.kind is not FieldKind.SECRET:
        common["initial"] = spec.default
    kind = spec.kind
    if kind is FieldKind.SECRET:
        # Never rendered back: blank on save keeps the stored value, so only a secret that
        # is not stored yet is required.
        common["required"] = spec.required and not secret_is_set
        return forms.CharField(
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            strip=True,
            max_length=spec.max_length or 4000,
            **common,
        )
    if kind is FieldKind.TEXTAREA:
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}), max_length=spec.max_length, **common
        )
    if kind is FieldKind.URL:
        return forms.URLField(assume_scheme="https", max_length=spec.max_length, **common)
    if kind is FieldKind.INTEGER:
        return forms.IntegerField(min_value=spec.min_value, max_value=spec.max_value, **common)
    if kind is FieldKind.BOOLEAN:
        common["required"] = False
        return forms.BooleanField(**common)
    if kind is FieldKind.CHOICE:
        choices = list(spec.choices)
        if not spec.required:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, **common)
    if kind is FieldKind.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=spec.choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind is FieldKind.LIST:
        return ListField(
            help_text=spec.help or "Separate values with commas.",
            **_no_help(common),
            **({"widget": PickerInput} if spec.picker else {}),  # issue 14: design/pickers.py
        )
    if kind is FieldKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind is FieldKind.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT
            ),
            **common,
        )
    if spec.picker:  # issue 14: options from the account (design/pickers.py)
        return forms.CharField(max_length=spec.max_length, widget=PickerInput, **common)
    return forms.CharField(max_length=spec.max_length, **common)


def _no_help(common: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in common.items() if k != "help_text"}


def initial_value(spec: Field, value: Any) -> Any:
    """A stored config value as its widget wants it (ISO strings back to dates)."""
    if isinstance(value, str) and value:
        try:
            if spec.kind is FieldKind.DATETIME:
                parsed = datetime.datetime.fromisoformat(value)
                return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed
            if spec.kind is FieldKind.DATE:
                return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def json_value(value: Any) -> Any:
    """Cleaned form values as JSON: dates as ISO strings."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


class ComponentForm(forms.Form):
    """Name + version + fields generated from connector ``Field`` specs."""

    name = forms.CharField(max_length=100, validators=[component_name])
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        specs: Sequence[Field],
        values: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.specs = list(specs)
        values = values or {}
        for spec in self.specs:
            self.fields[spec.name] = self.make_field(spec)
            if spec.name in values and not spec.secret:
                self.initial[spec.name] = initial_value(spec, values[spec.name])

    def make_field(self, spec: Field) -> forms.Field:
        return form_field(spec)

    def config(self) -> dict[str, Any]:
        return {
            spec.name: json_value(self.cleaned_data.get(spec.name))
            for spec in self.specs
            if not spec.secret
        }

    def add_errors(self, errors: Mapping[str, str]) -> None:
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)

    def basic_fields(self) -> list[forms.BoundField]:
        advanced = {s.name for s in self.specs if s.advanced}
        return [self[n] for n in self.fields if n not in advanced and n != "version"]

    def advanced_fields(self) -> list[forms.BoundField]:
        return [self[s.name] for s in self.specs if s.advanced]

    def advanced_errors(self) -> bool:
        """An advanced field has an error: its folded section opens so the error shows."""
        return any(field.errors for field in self.advanced_fields())


class ConnectionForm(ComponentForm):
    """A connection: secrets show "set" / "not set", never their value."""

    def __init__(
        self, *args: Any, connector: Connector, stored_secrets: Mapping[str, Any], **kwargs: Any
    ) -> None:
        self.connector = connector
        self.stored_secrets = stored_secrets
        super().__init__(*args, specs=connector.connection_fields, **kwargs)
        for spec in self.specs:
            if spec.secret and stored_secrets.get(spec.name):
                self.fields[CLEAR_PREFIX + spec.name] = forms.BooleanField(
                    required=False, label=f"Clear the stored {spec.label}"
                )

    def make_field(self, spec: Field) -> forms.Field:
        return form_field(spec, secret_is_set=bool(self.stored_secrets.get(spec.name)))

    def secret_state(self, name: str) -> bool:
        return bool(self.stored_secrets.get(name))

    def entered_secrets(self) -> dict[str, str]:
        return {
            spec.name: self.cleaned_data.get(spec.name) or "" for spec in self.specs if spec.secret
        }

    def cleared_secrets(self) -> list[str]:
        return [
            spec.name
            for spec in self.specs
            if spec.secret
            and self.cleaned_data.get(CLEAR_PREFIX + spec.name)
            and not self.cleaned_data.get(spec.name)
        ]

    def rows(self) -> list[dict[str, Any]]:
        """Fields for the template: each with its secret state and its clear box."""
        rows = []
        advanced = {s.name for s in self.specs if s.advanced}
        for name in ["name", *[s.name for s in self.specs]]:
            spec = next((s for s in self.specs if s.name == name), None)
            rows.append(
                {
                    "field": self[name],
                    "secret": bool(spec and spec.secret),
                    "is_set": bool(spec and spec.secret and self.secret_state(name)),
                    "clear": self[CLEAR_PREFIX + name]
                    if CLEAR_PREFIX + name in self.fields
                    else None,
                    "advanced": name in advanced,
                }
            )
        return rows


class ActivityForm(ComponentForm):
    def __init__(self, *args: Any, activity_type: ActivityType, **kwargs: Any) -> None:
        self.activity_type = activity_type
        super().__init__(*args, specs=activity_type.config_fields, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            self.add_errors(self.activity_type.validate_config(self.config()))
        return data


class RenameForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[component_name])
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
