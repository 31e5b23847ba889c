"""The audit log: every administrative action, who did it, when, from where, before/after."""
