"""Imports every module that registers outbox handlers (app.effects), so a
process knows every topic: web processes to emit, workers to dispatch.
Add new domain packages' handler modules here."""
from app.catalog import handlers as catalog_handlers  # noqa: F401
from app.customers import handlers as customer_handlers  # noqa: F401
from app.launches import handlers as launch_handlers  # noqa: F401
from app.notifications import handlers as notification_handlers  # noqa: F401
from app.orders import handlers as order_handlers  # noqa: F401
from app.payments import jobs as payment_jobs  # noqa: F401
from app.platform import handlers as platform_handlers  # noqa: F401
from app.search import handlers as search_handlers  # noqa: F401
from app.storefront import cache as storefront_cache  # noqa: F401  (listeners)
from app.webhooks import handlers as webhook_handlers  # noqa: F401
from tenants import domain_jobs  # noqa: F401
