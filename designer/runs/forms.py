from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from designer.design.models import AgentLostPolicy, Operation
from designer.runs.services import MAX_DEBUG_DAYS


class RunSettingsForm(forms.Form):
    on_success = forms.ModelChoiceField(
        queryset=Operation.objects.none(), required=False, label="On Success, run"
    )
    on_fail = forms.ModelChoiceField(
        queryset=Operation.objects.none(), required=False, label="On Fail, run"
    )
    on_complete = forms.ModelChoiceField(
        queryset=Operation.objects.none(),
        required=False,
        label="On Complete, run",
        help_text="After any outcome: success, warning or error.",
    )
    timeout_minutes = forms.IntegerField(
        min_value=1,
        max_value=7 * 24 * 60,
        label="Time-out (minutes)",
        help_text="A run still going after this ends as Error.",
    )
    on_agent_lost = forms.ChoiceField(
        choices=AgentLostPolicy.choices, label="If the agent running it is lost"
    )

    def __init__(self, *args, operation: Operation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        others = Operation.objects.filter(project_id=operation.project_id).exclude(pk=operation.pk)
        self.fields["on_success"].queryset = others
        self.fields["on_fail"].queryset = others
        self.fields["on_complete"].queryset = others


class DebugForm(forms.Form):
    debug_until = forms.DateTimeField(
        required=False,
        label="Enable debug logging until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=f"At most {MAX_DEBUG_DAYS} days ahead; leave empty to turn it off.",
    )

    def clean_debug_until(self):
        value = self.cleaned_data["debug_until"]
        if value is None:
            return None
        now = timezone.now()
        if value <= now:
            raise forms.ValidationError("Pick a time in the future.")
        if value > now + timedelta(days=MAX_DEBUG_DAYS):
            raise forms.ValidationError(f"At most {MAX_DEBUG_DAYS} days ahead.")
        return value


class ScheduleForm(forms.Form):
    cron = forms.CharField(
        max_length=200,
        label="Schedule (cron)",
        help_text="minute hour day-of-month month day-of-week, e.g. “0 6 * * 1-5”.",
    )
    timezone = forms.CharField(max_length=64, initial="UTC", label="Time zone")
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")
