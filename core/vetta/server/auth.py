"""Who is calling: an API key (``Authorization: Bearer vetta_...`` or ``X-API-Key``) or, where configured,
an OIDC / JWT bearer token whose claims name the user, groups and roles.

The server decides the caller's groups: from the key's record or from the signed token's claims, never from
anything else in the request.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .keys import PREFIX, ROLES, KeyStore, Principal
from .settings import ServeSettings


class Authenticator:
    def __init__(self, home: Path, settings: ServeSettings):
        self.keys = KeyStore(home)
        self.settings = settings

    def principal(self, authorization: str | None, api_key: str | None) -> Principal | None:
        token = (api_key or "").strip()
        if not token and authorization:
            scheme, _, value = authorization.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else ""
        if not token:
            return None
        if token.startswith(PREFIX):
            return self.keys.authenticate(token)
        if self.settings.jwt_enabled:
            return self._from_jwt(token)
        return None

    @cached_property
    def _jwks(self):
        import jwt

        return jwt.PyJWKClient(self.settings.jwks_url) if self.settings.jwks_url else None

    @cached_property
    def _public_key(self) -> str | None:
        path = self.settings.jwt_public_key_file
        return Path(path).expanduser().read_text(encoding="utf-8") if path else None

    def _from_jwt(self, token: str) -> Principal | None:
        import jwt

        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg", "")
            if algorithm.startswith("HS"):
                if not s.jwt_secret:
                    return None
                key, algorithms = s.jwt_secret, ["HS256", "HS384", "HS512"]
            else:
                if self._jwks is not None:
                    key = self._jwks.get_signing_key_from_jwt(token).key
                elif self._public_key:
                    key = self._public_key
                else:
                    return None
                algorithms = list(s.jwt_algorithms)
            options = {"require": ["exp", s.jwt_user_claim] + (["aud"] if s.jwt_audience else [])
                       + (["iss"] if s.jwt_issuer else [])}
            claims = jwt.decode(token, key, algorithms=algorithms, audience=s.jwt_audience, issuer=s.jwt_issuer,
                                options=options)
        except jwt.PyJWTError:
            return None
        user = claims.get(s.jwt_user_claim)
        if not isinstance(user, str) or not user:
            return None
        groups, roles = _strings(claims.get(s.jwt_groups_claim)), _strings(claims.get(s.jwt_roles_claim))
        return Principal(user=user, groups=groups, roles=tuple(r for r in roles if r in ROLES), via="jwt")


def _strings(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(sorted({item for item in value if isinstance(item, str) and item}))
