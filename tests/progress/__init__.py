"""Tests of the progress feature."""
