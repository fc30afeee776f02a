"""``vetta serve`` and ``vetta keys``: click only here; FastAPI and uvicorn load when the server starts."""

from __future__ import annotations

import json

import click


def _home_option(function):
    from ..cli import home_option

    return home_option(function)


@click.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1: loopback only).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@click.option("--workers", type=int, default=None, help="Worker processes (each loads its own models).")
@click.option("--domain", "domains", multiple=True, help="Serve only these domains (repeatable).")
@_home_option
def serve(host, port, workers, domains):
    """Serve the domains over HTTP: ask (JSON or server-sent events), retrieve, sources, review, audit,
    and an OpenAI-compatible /v1/chat/completions. Every call needs an API key (`vetta keys add`)."""
    import os

    from ..home import resolve_home
    from .settings import load_serve_settings

    home = resolve_home()
    overrides = {"host": host, "port": port, "workers": workers, "domains": tuple(domains) or None}
    settings = load_serve_settings(home, overrides)
    try:
        import uvicorn
    except ImportError as error:
        raise click.ClickException("vetta serve needs FastAPI and uvicorn: pip install 'vetta[serve]'") from error
    from .app import create_app

    service = create_app(home, settings).state.service  # bad settings or domains fail here, before any worker
    os.environ["VETTA_HOME"] = str(home)
    os.environ["VETTA_SERVE_SETTINGS"] = settings.model_dump_json()
    # each worker's models use its share of the cores: W workers each running every core's worth of
    # llama.cpp / torch / onnxruntime threads oversubscribe the CPU (the user's own setting wins)
    share = str(max(1, (os.cpu_count() or 1) // settings.workers))
    for name in ("VETTA_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(name, share)
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {settings.host}: reachable from other machines; put TLS in front", err=True)
    for line in connection_warnings(home, service.domains, settings.workers):
        click.echo(line, err=True)
    with _folder_server(home, service.domains):
        click.echo(f"vetta serving {', '.join(settings.domains) or 'every installed domain'} on "
                   f"http://{settings.host}:{settings.port} (docs at /docs)", err=True)
        uvicorn.run("vetta.server.app:app_from_environment", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_level="warning", timeout_graceful_shutdown=10)


def connection_warnings(home, domains, workers: int) -> list[str]:
    """A warning per PostgreSQL catalog whose connections these workers (and one `vetta ingest` beside
    them) could open beyond what the server grants: past max_connections, requests fail instead of waiting."""
    from .. import catalog_sql
    from ..config import load_settings

    pools: dict[str, list[tuple[int, int]]] = {}
    for domain in domains:
        settings = load_settings(home, domain)
        if settings.catalog_url:
            pools.setdefault(settings.catalog_url, []).append((settings.catalog_pool_size, settings.catalog_max_overflow))
    lines = []
    for url, sizes in pools.items():
        shown = catalog_sql.sa.make_url(url).render_as_string(hide_password=True)
        demand = catalog_sql.connection_demand(workers + 1, sizes)
        try:
            granted = catalog_sql.capacity(url)
        except Exception as error:  # noqa: BLE001 - a warning, the requests will say what fails
            lines.append(f"warning: cannot reach the catalog at {shown} to check its connections: {error}")
            continue
        if demand > granted:
            lines.append(
                f"warning: {workers} workers and one `vetta ingest` may open up to {demand} connections to {shown} "
                f"({len(sizes)} domain(s) x (catalog_pool_size + catalog_max_overflow) each, + the write lock), but "
                f"it grants {granted}: lower catalog_max_overflow or --workers, or raise max_connections")
    return lines


def _folder_server(home, domains):
    """Vectors in the home's Chroma folder are served by one Chroma server on loopback while vetta serves,
    so that the workers and `vetta ingest` never open the folder at once (vetta.store.folder_server)."""
    from contextlib import nullcontext

    from ..config import load_settings
    from ..store import folder_server

    embedded = [domain for domain in domains if not load_settings(home, domain).chroma_url]
    if not embedded:
        return nullcontext()
    click.echo(f"the vectors of {', '.join(embedded)} are in {home / 'chroma'}: serving them through a Chroma "
               "server on 127.0.0.1, so `vetta ingest` can write while this serves", err=True)
    return folder_server.serving(home)


@click.group()
def keys():
    """API keys for `vetta serve`: each names a user and the access groups their requests see."""


@keys.command("add")
@click.argument("user")
@click.option("--group", "groups", multiple=True, help="Access group the key's requests see (repeatable).")
@click.option("--role", "roles", multiple=True, type=click.Choice(["reviewer", "auditor"]),
              help="reviewer: pending / approve / reject; auditor: everyone's audit entries (repeatable).")
@_home_option
def keys_add(user, groups, roles):
    """Create a key for USER; it is printed once and stored only as a hash."""
    from ..home import resolve_home
    from .keys import KeyStore

    key_id, key = KeyStore(resolve_home()).add(user, tuple(groups), tuple(roles))
    click.echo(key)
    click.echo(f"key {key_id} for {user} (groups: {', '.join(groups) or 'public only'}); shown once, keep it safe",
               err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_home_option
def keys_list(as_json):
    """Every key: id, user, groups, roles, created, revoked (never the key itself)."""
    from ..home import resolve_home
    from .keys import KeyStore

    found = KeyStore(resolve_home()).list()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no keys; `vetta keys add USER --group G` makes one")
    for key in found:
        state = f"revoked {key['revoked']}" if key["revoked"] else "active"
        click.echo(f"{key['id']}  {key['user']}  groups: {','.join(key['groups']) or '-'}  "
                   f"roles: {','.join(key['roles']) or '-'}  {key['created']}  {state}")


@keys.command("revoke")
@click.argument("key_or_user")
@_home_option
def keys_revoke(key_or_user):
    """Revoke a key by its id, or every key of a user; it stops working at once in every worker."""
    from ..home import resolve_home
    from .keys import KeyStore

    revoked = KeyStore(resolve_home()).revoke(key_or_user)
    click.echo(f"revoked {len(revoked)} key(s): {', '.join(revoked)}")
