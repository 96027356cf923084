"""Application factory."""

from flask import Flask

from portal import config as config_module
from portal.db import bind, db
from portal.extensions import csrf, limiter


def create_app(config: dict | None = None) -> Flask:
    """Create the app: config from PORTAL_* variables (then ``config``), extensions, blueprints."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.load(config))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    bind(app.config["PORTAL_DATABASE_URL"])

    csrf.init_app(app)
    limiter.init_app(app)

    from portal.api import bp as api_bp
    from portal.cli import register_commands
    from portal.web import install_web_basics

    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the JSON API is key-authenticated, never cookie-authenticated
    install_web_basics(app)
    register_commands(app)

    @app.before_request
    def _open_db():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_db(_exc):
        if not db.is_closed():
            db.close()

    return app
