"""Merchant webhooks: endpoints, events written with the change, signed delivery."""
