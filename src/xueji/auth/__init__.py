"""Users, roles, password hashing, tokens and the CurrentUser dependency."""
