"""Tests of the screening feature."""
