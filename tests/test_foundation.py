"""Settings from the environment, production checks, credential encryption."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from designer import crypto
from designer.env import envbool, envint, envlist

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY=Fernet.generate_key().decode() * 2,
        CREDENTIALS_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="designer.example.com",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_embedded_defaults_fail_check_deploy(tmp_path):
    # Without HTTPS and with DEBUG on, the deploy check must complain: it is not a no-op.
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="1", VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "security.W" in result.stderr + result.stdout


def test_env_helpers_are_strict(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert envbool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ValueError, match="FLAG must be a boolean"):
        envbool("FLAG", False)
    monkeypatch.setenv("COUNT", "x")
    with pytest.raises(ValueError, match="COUNT must be an integer"):
        envint("COUNT", 1)
    monkeypatch.setenv("HOSTS", " a, b ,,")
    assert envlist("HOSTS") == ["a", "b"]


def test_credentials_round_trip_and_key_rotation(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]
    token = crypto.encrypt_json({"client_secret": "s3cret"})
    assert "s3cret" not in token
    settings.CREDENTIALS_KEYS = [new, old]  # rotate: new key first, old still decrypts
    assert crypto.decrypt_json(token) == {"client_secret": "s3cret"}
    rotated = crypto.rotate(token)
    settings.CREDENTIALS_KEYS = [new]
    assert crypto.decrypt_json(rotated) == {"client_secret": "s3cret"}
    with pytest.raises(ValueError, match="lacks the key"):
        crypto.decrypt_json(token)
