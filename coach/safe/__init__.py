"""Provides the safeguards every stage shares: outputs written whole, credentials redacted."""
