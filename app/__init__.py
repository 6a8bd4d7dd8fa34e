"""Vitrine: a multi-tenant storefront builder."""
from __future__ import annotations

from flask import Flask

from app.config import ROOT, load_config


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=str(ROOT / "static"), static_url_path="/static",
                template_folder="templates")
    app.config.from_mapping(load_config(config))
    if app.config["PROXY_HOPS"]:  # behind a TLS-terminating proxy: trust its X-Forwarded-* headers
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from app.extensions import csrf, db, login_manager, redis_client
    from tenants import tenancy

    redis_client.init_app(app)
    db.init_app(app)
    tenancy.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)

    from app import handlers, models  # noqa: F401  (registers every model and outbox handler)
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.errors import register_error_handlers
    from app.media.views import bp as media_bp
    from app.payments.webhooks import bp as payment_webhooks_bp
    from app.platform import bp as platform_bp
    from app.root import bp as root_bp
    from app.storefront import bp as storefront_bp
    from app.theming.views import bp as theming_bp

    from app import security
    from app.parse import IdConverter, refuse_control_characters

    security.init_app(app)

    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_control_characters)
    app.add_template_filter(_utc, "utc")
    app.register_blueprint(root_bp)
    app.register_blueprint(platform_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(storefront_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(theming_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # GETs, and cart writes that take JSON only (app.api.cart)
    app.register_blueprint(payment_webhooks_bp)
    csrf.exempt(payment_webhooks_bp)  # signed by Stripe instead
    register_error_handlers(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _utc(moment) -> str:
    from datetime import timezone

    return moment.astimezone(timezone.utc).strftime("%d %b %Y, %H:%M UTC")
