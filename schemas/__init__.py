"""The contracts between footfall's stages: wire models, the normalised event, topics."""
