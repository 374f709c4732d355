"""Holds the history: the SQLite store, its writer, its queries, the reports and the commands."""
