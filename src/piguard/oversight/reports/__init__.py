"""Monthly privacy reports per organisation and for the city (HTML and PDF, reproducible)."""
