"""Sessionisation, pure: events placed in their visitors' sessions, with no I/O."""
