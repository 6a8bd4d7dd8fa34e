"""JSON API v1 on a store's own host: the catalog (read-only) and the cart.

    GET /api/v1/products            active products, filtered and paginated
    GET /api/v1/products/<handle>   one active product
    GET /api/v1/search              the shopper's search: results, facets (app.api.search)
    /api/v1/cart…                   the shopper's cart, read and written (app.api.cart)

The request's store context (tenants.extension) scopes every query to the
store, row-level security included; the platform host gets a JSON 404.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for

from app.api import products
from app.api import search as shop_search
from app.api.errors import ApiError, int_parameter, not_found, page_parameter, search_unavailable
from app.search.service import SearchUnavailable

bp = Blueprint("api", __name__, url_prefix="/api/v1")
CACHE_CONTROL = "public, max-age=30"


@bp.before_request
def store_host_only():
    if g.get("store") is None:
        raise not_found("The API answers on a store's own host.")


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error.response()


@bp.errorhandler(SearchUnavailable)
def search_not_ready(error: SearchUnavailable):
    return search_unavailable(error.retry_after).response()


@bp.get("/products")
def list_products():
    filters = products.ProductFilters.from_args(request.args)
    page = page_parameter(request.args)
    limit = int_parameter(request.args, "limit", default=products.DEFAULT_LIMIT, minimum=1,
                          maximum=products.MAX_LIMIT)
    found, stock = products.list_products(filters, page=page, limit=limit)
    body = products.page_json(found, stock, currency=g.store.currency, base_url=request.url_root,
                              next_url=_page_url(found.next_page), prev_url=_page_url(found.prev_page))
    links = [f'<{url}>; rel="{rel}"' for rel, url in (("next", body["pagination"]["next"]),
                                                         ("prev", body["pagination"]["prev"])) if url]
    return _public(jsonify(body), {"Link": ", ".join(links)} if links else {})


@bp.get("/products/<handle>")
def show_product(handle: str):
    product, stock = products.get_product(handle)
    body = {"product": products.product_json(product, stock, currency=g.store.currency,
                                              base_url=request.url_root)}
    return _public(jsonify(body))


@bp.get("/search")
def search():
    body = shop_search.search_json(request.args, currency=g.store.currency, base_url=request.url_root)
    return _public(jsonify(body))


def _page_url(page: int | None) -> str | None:
    if page is None:
        return None
    return url_for(request.endpoint, **{**request.args.to_dict(), "page": page}, _external=True)


def _public(response, headers: dict | None = None):
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers.update(headers or {})
    return response


from app.api import cart  # noqa: E402,F401  (registers the cart's routes)
from app.api import checkout  # noqa: E402,F401  (registers the checkout and order routes)
