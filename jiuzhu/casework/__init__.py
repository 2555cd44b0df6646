"""Casework: one-window applications, the statutory procedure and its time limits,
visits, means tests, decisions, public notices, documents and dynamic management."""
