"""The management console has no models of its own yet."""
