"""Tests of the clients feature."""
