"""Attacks as tests: each one failed on the main that issue #7 describes."""
