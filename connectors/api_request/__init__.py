"""The "API request" source: records arrive in the body of a POST to an API trigger."""
