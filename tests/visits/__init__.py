"""Tests of the visits feature."""
