"""Creating stores and the tenant schemas they live in.

Pooled: a store is a directory row pointing at a pool schema with room; the
pool was created (and migrated) earlier, so creating the store is one insert.
Dedicated: a schema `store_<id>` is created and migrated on demand.
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from psycopg import sql

from app.effects import after_commit
from app.extensions import db
from app.jobs import enqueue
from app.money import default_locale, is_currency
from tenants.errors import DirectoryError, DirectoryErrorCode as Code
from tenants.extension import state
from tenants.migrations import upgrade_schema
from tenants.models import Account, Membership, Store, TenantSchema, placement_of  # noqa: F401 (placement_of: re-exported)

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
RESERVED_HANDLES = frozenset("""
    www admin api app apps static assets media cdn mail email smtp imap pop ftp ssh vpn
    dashboard account accounts login logout signup register auth oauth sso help support
    status blog docs shop store stores checkout cart billing payments pay secure
    platform vitrine root system test staging dev internal webhooks hooks localhost
""".split())
# Advisory-lock namespace (first key) for pool creation on the main database.
POOL_LOCK = 7_201


def validate_handle(handle: str) -> str:
    handle = (handle or "").strip().lower()
    if not HANDLE_RE.match(handle) or "--" in handle:
        raise DirectoryError(Code.INVALID, "Use 3–40 lowercase letters, digits and single hyphens, "
                             "starting and ending with a letter or digit.", "handle")
    if handle in RESERVED_HANDLES:
        raise DirectoryError(Code.RESERVED, f"“{handle}” is reserved. Please pick another handle.", "handle")
    return handle


def suggest_handle(name: str) -> str:
    """A handle made from a store's name ("Café Noir & Co." -> "cafe-noir-co"),
    as static/js/new_store.js makes it while the name is typed. It may still
    be too short, reserved or taken: create_store says which."""
    spelled_out = (name or "").replace("ß", "ss")  # NFKD has no ASCII form of it
    ascii_name = unicodedata.normalize("NFKD", spelled_out).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")


def validate_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 120:
        raise DirectoryError(Code.INVALID, "Give the store a name of 1–120 characters.", "name")
    return name


def validate_currency(currency: str) -> str:
    currency = (currency or "").strip().upper()
    if not is_currency(currency):
        raise DirectoryError(Code.INVALID, "Choose a currency from the list.", "currency")
    return currency


def create_store(*, handle: str, name: str, currency: str, owner: Account | None = None,
                 tier: str = "pooled", db_key: str = "main") -> Store:
    """Validate, place and create a store; the owner gets an owner membership. Commits.

    A blank handle is made from the name (suggest_handle)."""
    name = validate_name(name)  # first: a blank handle is made from it
    handle = validate_handle((handle or "").strip() or suggest_handle(name))
    currency = validate_currency(currency)
    if tier not in ("pooled", "dedicated"):
        raise DirectoryError(Code.INVALID, "Tier must be pooled or dedicated.", "tier")
    if db_key not in state().database_urls:
        raise DirectoryError(Code.INVALID, f"Unknown database “{db_key}”.", "database")
    if db.session.scalar(sa.select(Store.id).where(Store.handle == handle)) is not None:
        raise DirectoryError(Code.TAKEN, f"The handle “{handle}” is taken.", "handle")

    if tier == "pooled":
        store_id = None
        schema, free_left = allocate_pool_slot(db_key)
    else:
        store_id = db.session.scalar(sa.text("SELECT nextval(pg_get_serial_sequence('public.stores', 'id'))"))
        schema = f"store_{store_id}"
        create_dedicated_schema(db_key, schema)
    # Amounts are shown and typed in the locale that goes with the currency (money.default_locale).
    store = Store(id=store_id, handle=handle, name=name, currency=currency, locale=default_locale(currency),
                  tier=tier, db_key=db_key, schema_name=schema, status="active")
    db.session.add(store)
    if owner is not None:
        db.session.add(Membership(account=owner, store=store, role="owner"))
    if tier == "pooled" and free_left < max(1, state().pool_capacity // 10):
        after_commit(_prepare_next_pool, db_key)  # creation stays an insert; a lost job only costs that
    try:
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        if tier == "dedicated":
            drop_dedicated_schema(db_key, schema)
        if isinstance(exc, sa.exc.IntegrityError) and "handle" in str(exc.orig):
            raise DirectoryError(Code.TAKEN, f"The handle “{handle}” is taken.", "handle") from exc
        raise
    return store


def _prepare_next_pool(db_key: str) -> None:
    enqueue("tenants.jobs.keep_spare_pool", db_key)


def allocate_pool_slot(db_key: str) -> tuple[str, int]:
    """Reserve a place in a pool schema on `db_key` (in the caller's
    transaction); returns the schema and how many places it has left."""
    for _ in range(3):
        row = db.session.execute(sa.text("""
            UPDATE tenant_schemas SET store_count = store_count + 1
            WHERE id = (SELECT id FROM tenant_schemas
                        WHERE db_key = :db_key AND kind = 'pooled' AND store_count < capacity
                        ORDER BY id LIMIT 1 FOR UPDATE)
            RETURNING name, capacity - store_count"""), {"db_key": db_key}).first()
        if row is not None:
            return row[0], row[1]
        create_pool(db_key)
    raise DirectoryError(Code.CONFLICT, "Could not find room for the store; please try again.")


def release_pool_slot(db_key: str, schema: str, conn=None) -> None:
    statement = sa.text("UPDATE tenant_schemas SET store_count = store_count - 1 "
                        "WHERE db_key = :db_key AND name = :name AND kind = 'pooled'")
    (conn or db.session).execute(statement, {"db_key": db_key, "name": schema})


def create_pool(db_key: str, *, min_free: int = 1) -> str | None:
    """Create and migrate the next pool schema on `db_key` unless pools there
    already have `min_free` free places. Returns the new schema's name."""
    tenancy = state()
    with tenancy.owner_engine("main").begin() as directory:
        directory.execute(sa.text("SELECT pg_advisory_xact_lock(:ns, 0)"), {"ns": POOL_LOCK})
        free, pools = directory.execute(sa.text(
            "SELECT coalesce(sum(capacity - store_count), 0), count(*) FROM tenant_schemas "
            "WHERE db_key = :db_key AND kind = 'pooled'"), {"db_key": db_key}).one()
        if free >= min_free:
            return None
        name = f"pool_{pools + 1:04d}"
        upgrade_schema(tenancy.owner_engine(db_key), name, tenancy.app_role)
        directory.execute(sa.insert(TenantSchema.__table__).values(
            db_key=db_key, name=name, kind="pooled", capacity=tenancy.pool_capacity, store_count=0))
    return name


def ensure_spare_pool(db_key: str) -> str | None:
    """Keep a tenth of a pool free on `db_key`, so store creation stays an insert."""
    return create_pool(db_key, min_free=max(1, state().pool_capacity // 10))


def create_dedicated_schema(db_key: str, schema: str) -> None:
    """Create and migrate `schema`, then register it (own transaction)."""
    tenancy = state()
    upgrade_schema(tenancy.owner_engine(db_key), schema, tenancy.app_role)
    try:
        with tenancy.owner_engine("main").begin() as directory:
            directory.execute(sa.insert(TenantSchema.__table__).values(
                db_key=db_key, name=schema, kind="dedicated", capacity=1, store_count=1))
    except BaseException:
        drop_dedicated_schema(db_key, schema)
        raise


def drop_dedicated_schema(db_key: str, schema: str) -> None:
    tenancy = state()
    with tenancy.owner_engine(db_key).begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {sql.Identifier(schema).as_string(None)} CASCADE")
    with tenancy.owner_engine("main").begin() as directory:
        directory.execute(sa.delete(TenantSchema.__table__).where(
            TenantSchema.db_key == db_key, TenantSchema.name == schema))
