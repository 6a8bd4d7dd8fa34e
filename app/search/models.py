from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenants.tenant_model import TenantModel


class SearchOutbox(TenantModel):
    """A product whose search document must be rewritten (or removed).

    Written in the same transaction as the product change, so an index update
    can be late but never lost.
    """

    __tablename__ = "search_outbox"

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True),
                                                 default=lambda: datetime.now().astimezone())
