"""Figures (matplotlib) and the HTML report (Jinja2), drawn from computed statistics."""
