"""Request bodies of the web API, validated by pydantic, with their limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Trip", "RunRequest", "ScenarioRunRequest", "ErrorBody", "MAX_HORIZON_S",
           "MAX_ELEMENTS", "MAX_BODY_BYTES"]

#: longest simulated time a request may ask for, s (the engine's default horizon)
MAX_HORIZON_S = 3600.0
#: most elements tripped in one request
MAX_ELEMENTS = 20
#: largest request body accepted, bytes
MAX_BODY_BYTES = 64 * 1024


class Trip(BaseModel):
    """One element to trip: by name or by id (its position in its table)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["branch", "gen"] = Field("branch", description="element table")
    name: str | None = Field(None, min_length=1, max_length=200, description="element name")
    id: int | None = Field(None, ge=0, description="element position in its table")
    time_s: float = Field(0.0, ge=0.0, le=MAX_HORIZON_S, description="when it trips, s")

    @model_validator(mode="after")
    def _one_reference(self) -> Trip:
        if (self.name is None) == (self.id is None):
            raise ValueError("give exactly one of 'name' or 'id'")
        return self


class RunRequest(BaseModel):
    """An ad-hoc run: trip these elements of a built-in case and simulate the cascade."""

    model_config = ConfigDict(extra="forbid")

    case: str = Field(min_length=1, max_length=100, description="built-in case name")
    trips: list[Trip] = Field(min_length=1, max_length=MAX_ELEMENTS,
                              description=f"elements to trip (at most {MAX_ELEMENTS})")
    mode: Literal["ac", "dc"] = Field("ac", description="power flow of the cascade engine")
    horizon_s: float = Field(MAX_HORIZON_S, gt=0.0, le=MAX_HORIZON_S,
                             description=f"simulated time, s (at most {MAX_HORIZON_S:.0f})")
    derive_ratings: str | None = Field(
        None, max_length=80, description="rate the case's unrated branches (they never trip "
        "otherwise): K[,FLOOR_MVA][,basis=dc|ac][,override], as the CLI's --derive-ratings")


class ScenarioRunRequest(BaseModel):
    """Options when running a built-in scenario (its own settings otherwise)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["ac", "dc"] | None = Field(None, description="override the scenario's mode")
    horizon_s: float | None = Field(None, gt=0.0, le=MAX_HORIZON_S,
                                    description="override the simulated time, s")


class ErrorBody(BaseModel):
    """Every error response: one line and the HTTP status (422 adds ``errors``)."""

    error: str = Field(description="what was wrong, one line")
    status: int = Field(description="the HTTP status code")
