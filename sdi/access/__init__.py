"""Who may do what: users, tokens and the role policy."""
