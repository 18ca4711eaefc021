"""What the equity service takes in and gives out (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from registry.clock import to_rfc3339


class YouSaidWeDidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    you_said: str = Field(min_length=1, max_length=2000)
    we_did: str = Field(min_length=1, max_length=2000)


class YouSaidWeDidOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    you_said: str
    we_did: str
    published_at: datetime

    @field_serializer("published_at", when_used="json")
    def _utc(self, value: Any) -> Any:
        return to_rfc3339(value)
