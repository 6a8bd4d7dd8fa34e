"""Imports every model module, so both metadatas are complete.

The tenant metadata's sorted tables drive tier moves; add new domain
packages' models here.
"""
from app.store import models as store_models  # noqa: F401
from tenants import models as directory_models  # noqa: F401
