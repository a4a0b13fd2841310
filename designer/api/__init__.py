"""The public HTTP API (/api/v1/), personal API tokens and inbound API triggers."""
