"""piguard."""
