from django import forms

from designer.projects.models import Project, Role, Variable, variable_name


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the project a name.")
        return name


class RenameProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name"]

    def __init__(self, *args, **kwargs) -> None:
        # Its own ids: the variable form on the same Settings page has a "name" field too.
        kwargs.setdefault("auto_id", "id_rename_%s")
        super().__init__(*args, **kwargs)


class InviteForm(forms.Form):
    username_or_email = forms.CharField(
        label="Username or email",
        max_length=254,
        help_text="An email with no account yet is sent an invitation to create one.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class VariableForm(forms.Form):
    name = forms.CharField(max_length=64, validators=[variable_name])
    value = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Written [name] in connection and activity fields. "
        "For a secret, leave blank to keep the stored value.",
    )
    is_secret = forms.BooleanField(
        label="Secret", required=False, help_text="Encrypted, never shown again."
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, variable: Variable | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.variable = variable
        if variable is None or not variable.is_secret:
            # Plain values are not secrets: an ordinary text box.
            self.fields["value"].widget = forms.TextInput(attrs={"autocomplete": "off"})
        if variable is not None and not self.is_bound:
            self.initial.update(
                name=variable.name,
                is_secret=variable.is_secret,
                version=variable.version,
                value="" if variable.is_secret else variable.value,
            )
