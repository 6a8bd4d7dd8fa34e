"""Customer accounts on the storefront: register, log in and out, password
reset, the account pages (overview, orders, addresses) and the wishlist.

Pages render through the store's live theme (themes/base/templates/account/)
and are never cached (`private, no-store`); before a theme is published they
are 404s, like the rest of the shop. Views parse the form and call one
service function; refused forms come back with every error next to its
field and in a summary, what was typed kept (passwords excepted).
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from flask import Response, abort, g, redirect, request

from app.customers import addresses as address_book, service, wishlist
from app.customers.errors import CustomerError, FormErrors
from app.customers.sessions import current_customer, log_in, log_out
from app.orders import service as order_service
from app.domain_errors import DomainError
from app.parse import same_site_path
from app.platform import throttle
from app.platform.auth import client_address
from app.ratelimit import RateLimited
from app.storefront import bp, cart, catalog
from app.storefront.personal import personal_page, private, shop_site
from app.storefront.site import Site

LOGIN_FAILED = "That email and password do not match an account."
RESET_SENT = ("If an account exists for that email, we have sent it a link to choose a new password. "
              "It works for an hour.")


# -- rendering --------------------------------------------------------------------------------------------------------

def _refused(template: str, error: DomainError, form: dict, **page) -> Response:
    """The form again, with what was typed and every error; the status says why (422, 409, 401, 429…)."""
    errors = error.errors if isinstance(error, FormErrors) else {error.field or "form": error.message}
    return personal_page(template, error.status, form=form, errors=errors, **page)


def _form(*names: str) -> dict:
    """What was typed, to show again (values are escaped by the template; passwords are never kept)."""
    return {name: str(request.form.get(name, ""))[:1000] for name in names}


def _redirect(path: str) -> Response:
    return private(redirect(path, 303))


def _next() -> str:
    return same_site_path(request.values.get("next")) or ""


def login_required(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        site = shop_site()
        if current_customer() is None:
            back = request.full_path.rstrip("?") if request.method == "GET" else request.path
            return _redirect(site.routes.account("login") + "?next=" + quote(back, safe="/"))
        return view(*args, **kwargs)

    return guarded


def _rate_limited(template: str, limited: RateLimited, form: dict, **page) -> Response:
    response = personal_page(template, 429, {"Retry-After": str(limited.retry_after)}, form=form,
                     errors={"form": f"Too many attempts. Try again in {limited.retry_after} seconds."}, **page)
    return response


# -- register, log in, log out ----------------------------------------------------------------------------------------

@bp.route("/account/register", methods=["GET", "POST"])
def register():
    shop_site()
    form = _form("email", "name")
    if request.method == "GET":
        return personal_page("account/register.html", form=form, errors={}, next=_next(), page_title="Create an account")
    try:
        customer = service.register(email=request.form.get("email"), name=request.form.get("name"),
                                    password=request.form.get("password"), address=client_address())
    except RateLimited as limited:
        return _rate_limited("account/register.html", limited, form, next=_next(), page_title="Create an account")
    except DomainError as error:
        return _refused("account/register.html", error, form, next=_next(), page_title="Create an account")
    log_in(customer)
    return cart.merged_on_login(customer.id, _redirect(_next() or shop_site().routes.account()))


@bp.route("/account/login", methods=["GET", "POST"])
def login():
    site = shop_site()
    form = _form("email")
    page = {"next": _next(), "page_title": "Log in"}
    if request.method == "GET":
        if current_customer() is not None:
            return _redirect(_next() or site.routes.account())
        return personal_page("account/login.html", form=form, errors={}, **page)
    email, address = str(request.form.get("email", "")).strip().lower()[:254], client_address()
    try:
        throttle.login_attempt(service.login_key(email), address)  # counted before the password is checked
    except RateLimited as limited:
        return _rate_limited("account/login.html", limited, form, **page)
    customer = service.authenticate(email, request.form.get("password"))
    if customer is None:
        return personal_page("account/login.html", 401, form=form, errors={"form": LOGIN_FAILED}, **page)
    throttle.login_succeeded(service.login_key(email), address)
    log_in(customer)
    return cart.merged_on_login(customer.id, _redirect(_next() or site.routes.account()))


@bp.post("/account/logout")
def logout():
    site = shop_site()
    log_out()
    return _redirect(site.routes.home())


# -- password reset ---------------------------------------------------------------------------------------------------

@bp.route("/account/reset", methods=["GET", "POST"])
def reset_request():
    shop_site()
    form = _form("email")
    if request.method == "GET":
        return personal_page("account/reset_request.html", form=form, errors={}, sent=False, page_title="Reset your password")
    try:
        service.request_reset(email=request.form.get("email"), address=client_address(),
                              base_url=request.host_url.rstrip("/"))
    except RateLimited as limited:
        return _rate_limited("account/reset_request.html", limited, form, sent=False,
                             page_title="Reset your password")
    except DomainError as error:
        return _refused("account/reset_request.html", error, form, sent=False, page_title="Reset your password")
    return personal_page("account/reset_request.html", form={}, errors={}, sent=True, message=RESET_SENT,
                 page_title="Reset your password")


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    shop_site()
    page = {"token": token, "page_title": "Choose a new password"}
    try:
        if request.method == "GET":
            service.customer_for_token(token)
            return personal_page("account/reset_password.html", errors={}, expired=False, **page)
        customer = service.reset_password(token, request.form.get("password"))
    except FormErrors as error:
        return _refused("account/reset_password.html", error, {}, expired=False, **page)
    except DomainError as error:  # expired or used
        return personal_page("account/reset_password.html", error.status, errors={"form": error.message}, expired=True,
                     **page)
    log_in(customer)
    return cart.merged_on_login(customer.id, _redirect(shop_site().routes.account()))


# -- account pages ----------------------------------------------------------------------------------------------------

@bp.before_app_request
def account_home_on_a_shop():
    """`/account` is the merchant's account page on the platform host and the
    customer's on a shop; the URL map matches the platform's rule first (its
    blueprint is registered first), so on a store's host it comes here."""
    rule = request.url_rule
    if rule is not None and rule.endpoint == "platform.account" and g.get("store") is not None \
            and not g.get("on_platform"):
        return overview()
    return None


@bp.get("/account")
@login_required
def overview():
    customer = current_customer()
    return personal_page("account/overview.html", account=_account_view(customer),
                 default_address=_address_view(address_book.default_address(customer)), page_title="Your account")


@bp.get("/account/orders")
@login_required
def orders():
    return personal_page("account/orders.html", orders=order_service.customer_orders(current_customer().id),
                         page_title="Your orders")


@bp.route("/account/addresses", methods=["GET", "POST"])
@login_required
def addresses():
    customer = current_customer()
    form = _form(*address_book.FIELDS, "default")
    if request.method == "POST":
        try:
            values = address_book.clean_address(request.form)
            address_book.add_address(customer, values, make_default=request.form.get("default") == "on")
        except DomainError as error:
            return _refused("account/addresses.html", error, form, **_addresspersonal_page(customer))
        return _redirect(shop_site().routes.account("addresses"))
    form.setdefault("country", "")
    form["country"] = form["country"] or _store_country()
    return personal_page("account/addresses.html", form=form, errors={}, **_addresspersonal_page(customer))


@bp.post("/account/addresses/<id:address_id>/delete")
@login_required
def delete_address(address_id: int):
    _own_or_404(address_book.delete_address, address_id)
    return _redirect(shop_site().routes.account("addresses"))


@bp.post("/account/addresses/<id:address_id>/default")
@login_required
def default_address(address_id: int):
    _own_or_404(address_book.set_default, address_id)
    return _redirect(shop_site().routes.account("addresses"))


def _own_or_404(change, address_id: int) -> None:
    """Another customer's address, or none at all: the theme's 404 page, the same for both."""
    try:
        change(current_customer(), address_id)
    except CustomerError as error:
        if error.status == 404:
            abort(404)
        raise


def _addresspersonal_page(customer) -> dict:
    return {"addresses": [_address_view(a) for a in address_book.addresses(customer)],
            "countries": address_book.countries(), "page_title": "Your addresses"}


def _address_view(address) -> dict | None:
    if address is None:
        return None
    names = dict(address_book.countries())
    return {"id": address.id, "is_default": address.is_default, "country_name": names.get(address.country, ""),
            **{name: getattr(address, name) for name in address_book.FIELDS}}


def _account_view(customer) -> dict:
    return {"name": customer.name, "email": customer.email}


def _store_country() -> str:
    locale = g.store.locale or ""
    return locale.split("_")[1] if "_" in locale else ""


# -- wishlist ---------------------------------------------------------------------------------------------------------

@bp.get("/account/wishlist")
@login_required
def wishlistpersonal_page():
    return _wishlist(shop_site(), current_customer())


def _wishlist(site: Site, customer, status: int = 200, errors: dict | None = None) -> Response:
    products = catalog.cards_by_ids(wishlist.product_ids(customer.id), site.routes)
    return personal_page("account/wishlist.html", status, products=products, errors=errors or {}, page_title="Your wishlist")


@bp.post("/wishlist/<handle>")
def wishlist_add(handle: str):
    return _change_wishlist(handle, wishlist.add)


@bp.post("/wishlist/<handle>/remove")
def wishlist_remove(handle: str):
    return _change_wishlist(handle, wishlist.remove)


def _change_wishlist(handle: str, change) -> Response:
    """Save or unsave a product of this store: htmx gets the button back, a plain form goes back where it was."""
    site = shop_site()
    product = catalog.product_by_handle(handle)
    if product is None:
        abort(404)
    product_url = site.routes.product(product.handle)
    customer = current_customer()
    if customer is None:  # a page from before the log-out: log in first, then come back
        login = site.routes.account("login") + "?next=" + quote(product_url, safe="/")
        return private(Response(status=200, headers={"HX-Redirect": login})) if _htmx() else _redirect(login)
    try:
        change(customer, product.id)
    except DomainError as error:  # the wishlist is full: say so on the wishlist page
        return _wishlist(site, customer, error.status, errors={"form": error.message})
    if not _htmx():
        return _redirect(_next() or product_url)
    card = catalog.cards([product], site.routes)[0]
    return personal_page("snippets/wishlist_button.html", product=card)


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"
