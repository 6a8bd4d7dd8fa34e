"""Imports every model module, so both metadatas are complete.

The tenant metadata's sorted tables drive tier moves; add new domain
packages' models here.
"""
from app.catalog import models as catalog_models  # noqa: F401
from app.effects import models as effect_models  # noqa: F401
from app.inventory import models as inventory_models  # noqa: F401
from app.platform import models as platform_models  # noqa: F401
from app.store import models as store_models  # noqa: F401
from tenants import models as directory_models  # noqa: F401
