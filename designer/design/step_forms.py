"""The configuration forms of steps: a Script's text, a Condition's expression and mode, an
Invoke operation's operation and wait, a target's pass-on. Each gives the step's ``config``."""

from __future__ import annotations

from typing import Any

from django import forms

from designer.design.models import Operation, Step, StepKind

MAX_SCRIPT = 20_000  # characters; the expression engine bounds time and memory at run time


class StepForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, step: Step, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step

    def config(self) -> dict[str, Any]:
        return {}


class ScriptForm(StepForm):
    script = forms.CharField(
        label="Script",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        max_length=MAX_SCRIPT,
        required=False,
        help_text=(
            "One statement a line, run on each record, top to bottom: "
            "email = email | trim | lower (set a field; a.b sets inside), "
            'skip if not email / keep if country == "NL" (drop records), '
            "$last_seen = email (set a project variable), del internal_id, # a comment."
        ),
    )

    def config(self) -> dict[str, Any]:
        return {"script": self.cleaned_data["script"]}


class ConditionForm(StepForm):
    expression = forms.CharField(
        label="Condition",
        max_length=2000,
        help_text='An expression over the record, e.g. country == "CA" or age|to_int > 17.',
    )
    mode = forms.ChoiceField(
        label="Records that don't match",
        choices=[
            ("route", "Go down the False branch"),
            ("filter", "Are dropped (filter)"),
        ],
        widget=forms.RadioSelect,
        initial="route",
    )

    def config(self) -> dict[str, Any]:
        return {
            "expression": self.cleaned_data["expression"],
            "mode": self.cleaned_data["mode"],
        }


class InvokeForm(StepForm):
    operation = forms.ModelChoiceField(
        label="Operation to run", queryset=Operation.objects.none(), empty_label=None
    )
    wait = forms.BooleanField(
        label="Wait for it to finish (its failure fails this step)", required=False
    )

    def __init__(self, *args: Any, step: Step, **kwargs: Any) -> None:
        super().__init__(*args, step=step, **kwargs)
        field = self.fields["operation"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Operation.objects.filter(project_id=step.operation.project_id)
            .exclude(pk=step.operation_id)
            .order_by("name", "id")
        )

    def config(self) -> dict[str, Any]:
        return {"operation": self.cleaned_data["operation"].pk, "wait": self.cleaned_data["wait"]}


class TargetForm(StepForm):
    pass_on = forms.ChoiceField(
        label="What flows on to the next step",
        choices=[
            ("response", "Each record's result: id, action, error (the response)"),
            ("input", "The records this target received (to archive them too)"),
        ],
        widget=forms.RadioSelect,
        initial="response",
    )

    def config(self) -> dict[str, Any]:
        return {**(self.step.config or {}), "pass_on": self.cleaned_data["pass_on"]}


FORMS: dict[str, type[StepForm]] = {
    StepKind.SCRIPT: ScriptForm,
    StepKind.CONDITION: ConditionForm,
    StepKind.INVOKE: InvokeForm,
    StepKind.TARGET: TargetForm,
}


def step_form(step: Step, data: Any = None) -> StepForm | None:
    """The step's configuration form (bound to ``data`` if given), or None if it has none."""
    form_class = FORMS.get(step.kind)
    if form_class is None:
        return None
    config = step.config or {}
    initial: dict[str, Any] = {"version": step.operation.version}
    if step.kind == StepKind.SCRIPT:
        initial["script"] = config.get("script", "")
    elif step.kind == StepKind.CONDITION:
        initial.update(expression=config.get("expression", ""), mode=config.get("mode", "route"))
    elif step.kind == StepKind.INVOKE:
        initial.update(operation=config.get("operation"), wait=bool(config.get("wait")))
    elif step.kind == StepKind.TARGET:
        initial["pass_on"] = config.get("pass_on", "response")
    return form_class(data, step=step, initial=initial)
