"""``vetta serve``: the assistants as an authenticated HTTP service (FastAPI under uvicorn).

``create_app(home, settings)`` builds the API (``vetta.server.app``); keys live in ``vetta.server.keys``,
callers are established in ``vetta.server.auth``, the service's settings in ``vetta.server.settings``.
Nothing here is imported by the library or the other commands.
"""
