"""The input of a picker field: free text tied to a <datalist> of the account's objects."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString


class PickerInput(forms.TextInput):
    """A text input with a <datalist> filled over htmx, and a refresh button.

    The options URL comes from ``pickers.attach`` (``data-picker-url``); without it (a form
    rendered outside the wizard) this is a plain text input. The input stays free text, so
    typed ids and [variables] still work.
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        url = self.attrs.get("data-picker-url")
        if not url:
            return super().render(name, value, attrs, renderer)
        field_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        options_id = f"{field_id}-options"
        source = f"{url}?field={name}"
        extra = {
            "list": options_id,
            "autocomplete": "off",
            "hx-get": source,
            "hx-trigger": "focus once, input changed delay:300ms",
            "hx-target": f"#{options_id}",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
        }
        field = super().render(name, value, {**(attrs or {}), **extra}, renderer)
        kind = str(self.attrs.get("data-picker", "")).replace("_", " ")
        return format_html(
            '<span class="picker">{}<datalist id="{}"></datalist>'
            '<button type="button" class="link small" hx-get="{}&amp;refresh=1" '
            'hx-include="#{}" hx-target="#{}" hx-swap="innerHTML">Refresh {}</button></span>',
            field,
            options_id,
            source,
            field_id,
            options_id,
            kind,
        )
