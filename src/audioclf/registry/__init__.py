"""The model registry, prediction log and feedback loop (SQLAlchemy 2 + Alembic).

``Registry`` numbers versions of named models and moves them between stages
(candidate → production → archived); ``PredictionLog`` writes served predictions off the
request path; ``add_feedback`` stores corrections (and consented clips in the feedback
pool); ``retrain`` closes the loop. See docs/registry.md.
"""

from audioclf.registry.db import DB_URL_ENV, RegistryError, database_url, upgrade
from audioclf.registry.store import Registry, VersionInfo

__all__ = ["DB_URL_ENV", "Registry", "RegistryError", "VersionInfo", "database_url", "upgrade"]
