"""Mail settings from the environment, end to end in a fresh process: with EMAIL_HOST the
message goes to that SMTP server; without, it is kept as a file under VAR_DIR/mail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE", "EMAIL_", "DEFAULT_FROM"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_smtp_from_the_environment(smtp_server, tmp_path):
    result = manage(
        "sendtestemail",
        "ops@example.org",
        VAR_DIR=str(tmp_path),
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_USE_TLS="0",
        DEFAULT_FROM_EMAIL="Designer <noreply@designer.example.org>",
    )
    assert result.returncode == 0, result.stderr
    mail = smtp_server.wait_for(1)[0]
    assert mail.envelope_to == ["ops@example.org"]
    assert "noreply@designer.example.org" in str(mail.message["From"])
    assert not (tmp_path / "mail").exists()


def test_embedded_default_keeps_mail_in_var(tmp_path):
    result = manage("sendtestemail", "ops@example.org", VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "To: ops@example.org" in text and "Test email from" in text
