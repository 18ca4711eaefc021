"""Every room's tables, imported so that the shared metadata is complete for migrations."""

from __future__ import annotations

import api.models
import compliance.models
import detectors.models
import equity.models
import equity.residents.models
import ingest.models
import interop.models
import notify.models
import registry.models
import repairs.models
from registry.db import Base

metadata = Base.metadata

__all__ = [
    "api",
    "compliance",
    "detectors",
    "equity",
    "ingest",
    "interop",
    "metadata",
    "notify",
    "registry",
    "repairs",
]
