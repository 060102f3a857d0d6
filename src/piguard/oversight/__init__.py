"""Oversight: investigations, inspections and rectification follow-up, training records, reports."""
