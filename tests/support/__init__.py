"""Helpers imported by tests (never from conftest)."""
