"""Staff users, their role and area scope, API tokens and the append-only audit log."""
