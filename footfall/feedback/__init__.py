"""`footfall feedback`: survey comments grouped into themes."""
