"""Equity: outcome analysis by resident group, area and property, with small-number suppression."""
