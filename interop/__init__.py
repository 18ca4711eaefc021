"""Interop: the sector's data standards (the damp and mould data model, TSM), external references,
and work-order updates from the landlord's other systems."""
