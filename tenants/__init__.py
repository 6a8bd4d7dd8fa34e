"""Tenancy: the platform directory, Host -> store resolution, placement,
provisioning, migrations across tenant schemas, and tier moves."""
from tenants.extension import Tenancy, state

tenancy = Tenancy()

__all__ = ["Tenancy", "state", "tenancy"]
