"""The web front end: a FastAPI JSON API and a static MapLibre map page (no tiles, no CDN).

Run it with ``blackout serve`` (127.0.0.1:8000 by default).
"""

from blackout.web.app import create_app

__all__ = ["create_app"]
