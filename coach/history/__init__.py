"""Holds the history: the SQLite store, its writer and queries, the report renderers and commands."""
