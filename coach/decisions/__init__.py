"""Provides the decisions: calibration, slouch state, nudge timing (time is always passed in)."""
