"""`footfall export` and `footfall forget`: one person's data, for data-subject requests."""
