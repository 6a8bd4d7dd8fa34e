"""`flask --app wsgi tenants ...`: create, list, migrate and move stores."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.extensions import db
from app.inventory.service import DEFAULT_LOCATION, ensure_default_location
from app.store.setup import open_store
from tenants.context import StoreUnavailable, store_context
from tenants.errors import DirectoryError
from tenants.extension import state
from tenants.migrations import migrate_all
from tenants.models import Account, Store, TenantSchema, placement_of

tenants_cli = AppGroup("tenants", help="Create, list, migrate and move stores.")


@tenants_cli.command("create")
@click.option("--handle", required=True)
@click.option("--name", required=True)
@click.option("--currency", default="USD", show_default=True)
@click.option("--tier", type=click.Choice(["pooled", "dedicated"]), default="pooled", show_default=True)
@click.option("--database", "db_key", default="main", show_default=True, help="A key of DATABASES.")
@click.option("--owner", "owner_email", help="Email of an existing account to own the store.")
def create(handle, name, currency, tier, db_key, owner_email):
    from tenants.provisioning import create_store

    owner = None
    if owner_email:
        owner = db.session.scalar(sa.select(Account).where(Account.email == owner_email.strip().lower()))
        if owner is None:
            raise click.ClickException(f"no account with email {owner_email}")
    try:
        store = create_store(handle=handle, name=name, currency=currency, owner=owner, tier=tier, db_key=db_key)
    except DirectoryError as error:
        raise click.ClickException(error.message) from None
    with store_context(placement_of(store)):
        open_store(store.name, owner.email if owner else "cli")
    click.echo(f"created {store.handle} ({store.tier}) in {store.db_key}.{store.schema_name}; "
               f"storefront at {state().store_url(store.handle)}")


@tenants_cli.command("list")
def list_stores():
    rows = db.session.execute(sa.select(Store).order_by(Store.id)).scalars().all()
    click.echo(f"{'id':>6}  {'handle':<24} {'tier':<10} {'database':<10} {'schema':<16} name")
    for store in rows:
        click.echo(f"{store.id:>6}  {store.handle:<24} {store.tier:<10} {store.db_key:<10} "
                   f"{store.schema_name:<16} {store.name}")


@tenants_cli.command("migrate")
@click.option("--database", "db_key", help="Only schemas on this database.")
def migrate(db_key):
    """Bring every tenant schema to the latest revision (resumable)."""
    query = sa.select(TenantSchema.db_key, TenantSchema.name).order_by(TenantSchema.db_key, TenantSchema.id)
    if db_key:
        query = query.where(TenantSchema.db_key == db_key)
    schemas = [tuple(row) for row in db.session.execute(query)]
    db.session.rollback()
    tenancy = state()
    engines = {key: tenancy.owner_engine(key) for key in {key for key, _ in schemas}}
    failures = []
    with click.progressbar(length=len(schemas), label="Migrating tenant schemas", file=sys.stderr,
                           show_pos=True) as bar:
        def report(result):
            if result.outcome == "failed":
                failures.append(result)
            bar.update(1)

        results = migrate_all(engines, schemas, tenancy.app_role, on_result=report)
    migrated = sum(r.outcome == "migrated" for r in results)
    current = sum(r.outcome == "current" for r in results)
    click.echo(f"{migrated} migrated, {current} already current, {len(failures)} failed")
    for failure in failures:
        click.echo(f"  {failure.db_key}.{failure.schema}: {failure.error}", err=True)
    if failures:
        raise click.ClickException("some schemas failed; fix them and run `tenants migrate` again to resume")


@tenants_cli.command("default-locations")
def default_locations():
    """Give every store that has no location its default one (new stores start
    with it; stores made before that did not). Safe to run again."""
    stores = [placement_of(store) for store in db.session.scalars(
        sa.select(Store).where(Store.status == "active").order_by(Store.id))]
    db.session.rollback()
    made, busy = 0, []
    for store in stores:
        try:
            with store_context(store):
                made += ensure_default_location() is not None
        except StoreUnavailable:  # in a tier move's switch right now
            busy.append(store.handle)
    click.echo(f"{made} of {len(stores)} stores got their default location ({DEFAULT_LOCATION})")
    if busy:
        raise click.ClickException(f"busy moving, run again for: {', '.join(busy)}")


@tenants_cli.command("move")
@click.argument("handle")
@click.option("--to", "to_tier", type=click.Choice(["pooled", "dedicated"]), required=True)
@click.option("--database", "db_key", help="Target database (default: the store's current one).")
def move(handle, to_tier, db_key):
    """Move a store between tiers or databases while it keeps serving."""
    from tenants.moves import MoveFailed, move_store

    try:
        report = move_store(handle, to_tier=to_tier, db_key=db_key)
    except (DirectoryError, MoveFailed) as error:
        raise click.ClickException(str(error)) from None
    total = sum(report.rows.values())
    click.echo(f"moved {report.store}: {report.source} -> {report.target} "
               f"({total} rows verified, {report.replayed} replayed during the freeze)")
