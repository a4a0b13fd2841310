from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    # The Celery queue ("agent group") this project's operations run on.
    agent_group = models.CharField(max_length=100, default="default")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


variable_name = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_.]*$",
    "Start with a letter or “_”; then letters, digits, “_” or “.”.",
    code="invalid_variable_name",
)


class Variable(models.Model):
    """A project variable, written ``[name]`` in connection and activity fields.

    A secret variable's value is encrypted (designer.crypto) and never rendered back.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=64, validators=[variable_name])
    is_secret = models.BooleanField(default=False)
    value = models.TextField(blank=True)  # plain values only
    value_encrypted = models.TextField(blank=True, default="")  # secret values only
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="variable_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def resolved_value(self) -> str:
        if not self.is_secret:
            return self.value
        from designer.crypto import decrypt_json

        return str(decrypt_json(self.value_encrypted).get("value", ""))
