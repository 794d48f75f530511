"""The clinic test suite."""
