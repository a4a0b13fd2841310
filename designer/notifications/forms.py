from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_ADDRESSES = 20


class NotificationForm(forms.Form):
    on_error = forms.BooleanField(label="When a run ends in Error", required=False)
    on_warning = forms.BooleanField(label="When a run ends in Success with Warning", required=False)
    members = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Members to notify",
    )
    addresses = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Other addresses",
        help_text="One per line or separated by commas.",
    )

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        User = get_user_model()
        members = User.objects.filter(memberships__project=project, is_active=True)
        self.fields["members"].queryset = members.order_by("username")
        self.fields["members"].label_from_instance = lambda u: (
            f"{u.get_username()} ({u.email})" if u.email else f"{u.get_username()} (no email)"
        )

    def clean_addresses(self) -> list[str]:
        raw = self.cleaned_data["addresses"].replace(",", "\n").replace(";", "\n")
        found, bad = [], []
        for item in (part.strip() for part in raw.splitlines()):
            if not item:
                continue
            try:
                validate_email(item)
            except ValidationError:
                bad.append(item)
            else:
                if item.lower() not in {a.lower() for a in found}:
                    found.append(item)
        if bad:
            raise ValidationError(f"Not email addresses: {', '.join(bad)}.")
        if len(found) > MAX_ADDRESSES:
            raise ValidationError(f"At most {MAX_ADDRESSES} addresses.")
        return found

    def clean(self) -> dict:
        data = super().clean()
        wants = data.get("on_error") or data.get("on_warning")
        if wants and not data.get("members") and not data.get("addresses") and not self.errors:
            raise ValidationError("Choose members or enter addresses to notify.")
        return data
