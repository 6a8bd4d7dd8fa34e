"""Imports every model module, so both metadatas are complete.

The tenant metadata's sorted tables drive tier moves; add new domain
packages' models here. Alembic's environments compare the two metadatas
with the migrated databases (tests/tenants/test_schema_drift.py).
"""
from app import idempotency as idempotency_models  # noqa: F401
from app.catalog import models as catalog_models  # noqa: F401
from app.checkout import models as checkout_models  # noqa: F401
from app.customers import models as customer_models  # noqa: F401
from app.effects import models as effect_models  # noqa: F401
from app.extensions import db
from app.inventory import models as inventory_models  # noqa: F401
from app.launches import models as launch_models  # noqa: F401
from app.orders import models as order_models  # noqa: F401
from app.pages import models as page_models  # noqa: F401
from app.payments import models as payment_models  # noqa: F401
from app.platform import models as platform_models  # noqa: F401
from app.reviews import models as review_models  # noqa: F401
from app.store import models as store_models  # noqa: F401
from app.theming import models as theming_models  # noqa: F401
from app.webhooks import models as webhook_models  # noqa: F401
from tenants import models as directory_models  # noqa: F401
from tenants.tenant_model import TenantModel

public_metadata = db.metadata  # the directory: the main database's public schema
tenant_metadata = TenantModel.metadata  # every tenant schema (bind key "tenant")
