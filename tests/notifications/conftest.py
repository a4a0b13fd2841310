from tests.accounts.smtp import smtp_server  # noqa: F401  (fixture)
