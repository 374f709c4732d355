"""Provides the shared safeguards: whole outputs, private files, redacted credentials, closing on exit."""
