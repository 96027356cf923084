"""Application factory."""

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as config_module
from portal.access import merchants
from portal.access.activity import CURRENT_CLIENT, Client
from portal.billing.gateway import SandboxGateway, get_gateway
from portal.db import bind, db, end_request
from portal.extensions import compress, csrf, htmx, limiter, login_manager


def create_app(config: dict | None = None) -> Flask:
    """Create the app: config from PORTAL_* variables (then ``config``), extensions, blueprints."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.load(config))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    bind(app.config["PORTAL_DATABASE_URL"])
    merchants.use_fast_hashing(app.config["PORTAL_ENV"] == "testing")

    @app.before_request
    def _open_db():
        db.connect(reuse_if_open=True)
        # Who is acting, for the activity log (domain code never reads the request).
        g.client_token = CURRENT_CLIENT.set(
            Client(ip=request.remote_addr, user_agent=request.user_agent.string)
        )

    @app.teardown_request
    def _close_db(_exc):
        if "client_token" in g:
            CURRENT_CLIENT.reset(g.pop("client_token"))
        end_request()

    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from portal import assets, deferred, form_inputs, i18n
    from portal.api import bp as api_bp
    from portal.cli.commands import register_commands
    from portal.customer import bp as customer_bp
    from portal.customer import filters as customer_filters
    from portal.customer.language import select_locale
    from portal.logs import install_redaction
    from portal.mail import commands as mail_commands
    from portal.mail import outbox as mail
    from portal.mail import receipts
    from portal.merchant import bp as merchant_bp
    from portal.sandbox.mailbox import register_devmail
    from portal.sandbox.tokenizer import bp as tokenizer_bp
    from portal.web import install_web_basics

    i18n.install(app, select_locale)
    install_web_basics(app)
    deferred.install(app)
    if app.config["PORTAL_PROXY_HOPS"]:
        # Trust X-Forwarded-For/-Proto from exactly this many proxies; never X-Forwarded-Host.
        hops = app.config["PORTAL_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0)
    assets.install(app)
    form_inputs.install(app)
    compress.init_app(app)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the JSON API is key-authenticated, never cookie-authenticated
    app.register_blueprint(customer_bp)
    customer_filters.install(app)
    app.register_blueprint(merchant_bp)
    app.register_blueprint(tokenizer_bp)
    csrf.exempt(tokenizer_bp)  # stores nothing and reads no cookie: there is nothing to forge
    gateway = get_gateway()
    if isinstance(gateway, SandboxGateway):
        gateway.use_secret(app.config["SECRET_KEY"])  # every worker reads every token
    htmx.init_app(app)
    mail.init_app(app)
    receipts.install(app)
    mail_commands.register_commands(app)
    register_devmail(app)
    register_commands(app)
    install_redaction()
    return app
