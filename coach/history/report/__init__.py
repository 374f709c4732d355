"""Renders progress reports from the history: terminal tables, PNG charts and an HTML page."""
