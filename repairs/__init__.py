"""Repairs: work orders from cases, the two-part repair journey, no access, post-repair verification."""
