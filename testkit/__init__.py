"""Test and benchmark scaffolding kept out of the installed package: synthetic bodies, scoring."""
