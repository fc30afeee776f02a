"""The service's own settings: the ``[serve]`` table of ``VETTA_HOME/config.toml``, then command-line options.

Kept apart from ``vetta.config.Settings`` (which is per domain): these say who may call, how much, and where
the service listens, never how an answer is made.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="address to bind; loopback unless told otherwise")
    port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes (each loads its own models)")
    domains: tuple[str, ...] = Field((), description="domains served (default: every installed domain pack)")
    max_body_bytes: int = Field(64_000, ge=1_000, description="largest request body accepted (413 above)")
    max_question_chars: int = Field(2_000, ge=10, description="longest question or query accepted (422 above)")
    max_k: int = Field(50, ge=1, description="most passages a retrieve request may ask for")
    rate_limit_per_minute: int = Field(
        120, ge=0, description="requests per caller per minute across this machine's workers (429 above; 0: off)"
    )
    request_timeout_s: float = Field(120.0, gt=0, description="an ask or retrieve running longer answers 504")
    jwt_secret: str | None = Field(None, description="accept HS256/384/512 bearer tokens signed with this secret")
    jwt_public_key_file: str | None = Field(None, description="accept RS/ES/EdDSA tokens signed by this PEM key")
    jwks_url: str | None = Field(None, description="accept tokens signed by a key of this JWKS (an OIDC issuer's)")
    jwt_algorithms: tuple[str, ...] = Field(("RS256",), description="algorithms accepted for public-key tokens")
    jwt_audience: str | None = Field(None, description="required `aud` claim")
    jwt_issuer: str | None = Field(None, description="required `iss` claim")
    jwt_user_claim: str = Field("sub", description="claim naming the user")
    jwt_groups_claim: str = Field("groups", description="claim listing the user's access groups")
    jwt_roles_claim: str = Field("roles", description="claim listing roles (reviewer, auditor)")

    @property
    def jwt_enabled(self) -> bool:
        return bool(self.jwt_secret or self.jwt_public_key_file or self.jwks_url)


def load_serve_settings(home: Path, overrides: dict[str, Any] | None = None) -> ServeSettings:
    values: dict[str, Any] = {}
    config_file = Path(home) / "config.toml"
    if config_file.exists():
        try:
            values.update(tomllib.loads(config_file.read_text(encoding="utf-8")).get("serve", {}))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{config_file}: not valid TOML ({error})") from error
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    try:
        return ServeSettings(**values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, issue['loc']))}: {issue['msg']}" for issue in error.errors())
        raise ConfigError(f"bad [serve] settings in {config_file}: {problems}") from error
