"""Tests for the pure domain rules (no app, no database)."""
