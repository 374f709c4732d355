"""Provides the session commands' handlers (run, analyze, record, count, calibrate) for the CLI."""
