"""Tenancy jobs."""
from app.jobs import job
from tenants.provisioning import ensure_spare_pool


@job
def keep_spare_pool(db_key: str) -> str | None:
    """Create the next pool schema on `db_key` before the current ones fill up."""
    return ensure_spare_pool(db_key)
