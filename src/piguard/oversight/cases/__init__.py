"""Investigations: cases, evidence, dispositions, and the investigator's scoped access."""
