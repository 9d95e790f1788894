"""The tutorial's study and its published results (package data)."""
