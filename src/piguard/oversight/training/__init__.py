"""Training records: the course catalogue, completions (identity's table), attestations, reminders."""
