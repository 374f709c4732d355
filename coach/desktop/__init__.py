"""Provides the coach's place on the desktop: start at login, a log file, and `coach doctor`."""
