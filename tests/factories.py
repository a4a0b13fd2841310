"""factory_boy factories for test data."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from designer.design.models import Activity, Connection, Operation, Transformation
from designer.design.operations import plain_chain
from designer.projects.models import Membership, Project, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    project = factory.SubFactory(ProjectFactory)
    connector_key = "constant_contact"
    name = factory.Sequence(lambda n: f"Endpoint {n}")


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    connection = factory.SubFactory(ConnectionFactory)
    project = factory.SelfAttribute("connection.project")
    activity_type = "query"
    name = factory.Sequence(lambda n: f"Activity {n}")


class TransformationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transformation

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Transformation {n}")


class OperationFactory(factory.django.DjangoModelFactory):
    """An operation; ``source`` / ``transformation`` / ``target`` given become its steps, in
    that order (the plain chain most tests start from)."""

    class Meta:
        model = Operation

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Operation {n}")
    source = None
    transformation = None
    target = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        slots = {name: kwargs.pop(name) for name in ("source", "transformation", "target")}
        operation = super()._create(model_class, *args, **kwargs)
        plain_chain(operation, **slots)
        return operation
