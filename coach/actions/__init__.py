"""Provides the actions at the end of the pipeline: views, reports, recordings and nudges."""
