"""Flask commands (init-db, run-billing, deliver-mail, seed-demo) and the demo data they seed."""
