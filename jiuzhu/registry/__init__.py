"""Registry: persons, households, memberships, their income, asset and expense records, and IDs."""
