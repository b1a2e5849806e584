"""Personas: a site's customers grouped on what they do, are worth, say and are, each group named and portrayed."""
