"""The HTTP API that serves trained run folders: FastAPI app, engine, limits and routes.

``create_app(settings)`` builds the app; ``audioclf serve RUN ...`` runs it under uvicorn.
"""

from __future__ import annotations

from audioclf.service.app import create_app
from audioclf.service.settings import Settings, get_settings

__all__ = ["Settings", "create_app", "get_settings"]
