from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from designer.crypto import decrypt_json, encrypt_json
from designer.design.models import Connection
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def test_rotation_re_encrypts_every_connection_with_the_new_key(project, settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]
    first = ConnectionFactory(project=project, secrets_encrypted=encrypt_json({"a": "1"}))
    second = ConnectionFactory(project=project, secrets_encrypted=encrypt_json({"b": "2"}))
    ConnectionFactory(project=project)  # no secrets: left alone

    settings.CREDENTIALS_KEYS = [new, old]
    call_command("rotate_credentials_key")
    assert "2 connections" in capsys.readouterr().out

    settings.CREDENTIALS_KEYS = [new]  # the old key is gone: everything still decrypts
    tokens = dict(Connection.objects.values_list("pk", "secrets_encrypted"))
    assert decrypt_json(tokens[first.pk]) == {"a": "1"}
    assert decrypt_json(tokens[second.pk]) == {"b": "2"}
