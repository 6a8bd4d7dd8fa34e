"""Recording which products the search index must catch up on."""
from __future__ import annotations

from app.extensions import db
from app.search.models import SearchOutbox
from tenants.context import require_store


def touch(*product_ids: int) -> None:
    """Note, in the current transaction, that these products' documents changed."""
    db.session.add_all(SearchOutbox(product_id=product_id) for product_id in product_ids)


def schedule_indexing() -> None:
    """Ask a worker to apply the current store's outbox (call after commit).

    If Redis or the workers are down the rows simply wait: the periodic sweep
    and `flask search rebuild` pick them up.
    """
    from app.jobs import enqueue
    from app.search.jobs import apply_outbox

    enqueue(apply_outbox, require_store().id, queue_name="search")
