"""Tests for the owner's pages: clinic details and accounts."""
