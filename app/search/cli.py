"""`flask --app wsgi search rebuild [--store HANDLE] | status`."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from whoosh.index import LockError

from app.extensions import db
from app.search import service
from tenants.context import Placement, StoreUnavailable, store_context
from tenants.models import Store
from tenants.provisioning import placement_of

search_cli = AppGroup("search", help="Per-store search indexes.")


def _placements(handle: str | None) -> list[Placement]:
    query = sa.select(Store).order_by(Store.id)
    if handle:
        query = query.where(Store.handle == handle.strip().lower())
    placements = [placement_of(store) for store in db.session.scalars(query)]
    db.session.commit()
    if handle and not placements:
        raise click.ClickException(f"No store with the handle “{handle}”.")
    return placements


@search_cli.command("rebuild")
@click.option("--store", "handle", metavar="HANDLE", help="Only this store (default: every store).")
def rebuild(handle):
    """Recreate search indexes from the database; pending outbox rows are dropped."""
    placements = _placements(handle)
    failed = 0
    for number, placement in enumerate(placements, 1):
        prefix = f"[{number}/{len(placements)}] {placement.handle}"
        try:
            with store_context(placement):
                indexed = service.rebuild()
        except (sa.exc.SQLAlchemyError, StoreUnavailable, LockError, OSError) as error:
            # one store's trouble (mid-move, index locked, disk) must not stop the others
            failed += 1
            click.echo(f"{prefix}: failed: {error}", err=True)
        else:
            click.echo(f"{prefix}: {indexed} product{'s' * (indexed != 1)} indexed")
    click.echo(f"rebuilt {len(placements) - failed} of {len(placements)} store index(es)")
    if failed:
        click.get_current_context().exit(1)


@search_cli.command("status")
def status():
    """Outbox rows waiting to reach each store's index."""
    from app.jobs import queue

    placements = _placements(None)
    waiting = 0
    for placement in placements:
        with store_context(placement):
            pending = service.pending()
        waiting += pending
        click.echo(f"{placement.handle}: {pending} pending")
    click.echo(f"{waiting} pending in {len(placements)} store(s); {len(queue('search'))} job(s) on the search queue")
