"""Shared fixtures. Feature areas add their own conftest.py in their test folders."""
