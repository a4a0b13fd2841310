from __future__ import annotations

from django import forms

from designer.api.models import Scope, TriggerMode


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Nightly CI job”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=[Scope.READ]
    )
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        help_text="Optional; leave empty for a token that lasts until revoked.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class TriggerForm(forms.Form):
    mode = forms.ChoiceField(choices=TriggerMode.choices, widget=forms.RadioSelect)
