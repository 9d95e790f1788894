"""Built-in datasets shipped as package data."""
