from tests.accounts.smtp import smtp_server  # noqa: F401  (fixture)
from tests.console.conftest import console_client, staff  # noqa: F401  (fixtures)
