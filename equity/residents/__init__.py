"""Residents scrutinise the service: the panel's deep dives, resident-defined KPIs, milestone
surveys and the public performance page's figures (docs/residents.md)."""
