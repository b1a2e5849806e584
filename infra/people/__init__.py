"""One person's data across footfall's tables: finding every id of theirs, exporting what is
held about them, erasing it. Shared by the sink's HTTP port and the CLI."""
