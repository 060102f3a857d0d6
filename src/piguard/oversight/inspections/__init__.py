"""Inspections and rectification follow-up: recommendations, rectification items, spot checks."""
