"""Templates of the discovery reports (package data)."""
