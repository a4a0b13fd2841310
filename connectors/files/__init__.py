"""The Files connector: CSV, JSON and JSON Lines in a project-managed folder, plus inline data."""
