"""The official `easylabs` client's `client.dunning_config` works unmodified against the app:
retrieve, create_or_replace and update round-trip, and a bad value is its 422 error."""

import pytest
from easylabs.error import InvalidRequestError
from easylabs.models import DunningConfig

from .test_easylabs_client import api_url, easy  # noqa: F401  (fixtures)


def schedule(*days) -> list[dict]:
    return [{"days_after_failure": day} for day in days]


def test_retrieve_reads_the_defaults(easy):  # noqa: F811
    config = easy.dunning_config.retrieve()
    assert isinstance(config, DunningConfig)
    assert (config.retry_mode, config.smart_retry_window) == ("smart", "2_weeks")
    assert config.custom_retry_schedule == schedule(3, 5, 7)
    assert (config.subscription_terminal_action, config.invoice_terminal_action) == (
        "cancel",
        "past_due",
    )
    assert (config.recovery_page_mode, config.custom_recovery_link) == ("hosted", None)
    assert config.notifications == {
        "payment_failed_email_enabled": True,
        "expiring_card_email_enabled": True,
        "card_expiry_warn_days": 30,
    }
    assert config.created_at and config.updated_at
    assert config.model_dump()["smart_retry_attempts"] == 4  # extra fields come through


def test_create_or_replace_and_update_round_trip(easy):  # noqa: F811
    created = easy.dunning_config.create_or_replace(
        retry_mode="custom",
        custom_retry_schedule=schedule(2, 5, 9),
        subscription_terminal_action="pause",
        invoice_terminal_action="uncollectible",
        recovery_page_mode="custom_link",
        custom_recovery_link="https://acme.example/fix-payment",
        notifications={"card_expiry_warn_days": 14, "expiring_card_email_enabled": False},
    )
    assert created.retry_mode == "custom"
    assert created.custom_retry_schedule == schedule(2, 5, 9)
    assert created.subscription_terminal_action == "pause"
    assert created.invoice_terminal_action == "uncollectible"
    assert created.recovery_page_mode == "custom_link"
    assert created.custom_recovery_link == "https://acme.example/fix-payment"
    assert created.notifications == {
        "payment_failed_email_enabled": True,
        "expiring_card_email_enabled": False,
        "card_expiry_warn_days": 14,
    }
    assert easy.dunning_config.retrieve().model_dump() == created.model_dump()

    updated = easy.dunning_config.update(smart_retry_window="4_weeks", custom_retry_schedule=[1])
    assert updated.smart_retry_window == "4_weeks"
    assert updated.custom_retry_schedule == schedule(1)
    assert updated.custom_recovery_link == "https://acme.example/fix-payment"  # kept
    assert updated.subscription_terminal_action == "pause"
    assert easy.dunning_config.retrieve().model_dump() == updated.model_dump()

    replaced = easy.dunning_config.create_or_replace(retry_mode="smart")
    assert replaced.recovery_page_mode == "hosted" and replaced.custom_recovery_link is None
    assert replaced.custom_retry_schedule == schedule(3, 5, 7)


def test_a_bad_value_is_the_clients_422_and_changes_nothing(easy):  # noqa: F811
    before = easy.dunning_config.update(card_expiry_warn_days=21).model_dump()
    with pytest.raises(InvalidRequestError) as refused:
        easy.dunning_config.update(recovery_page_mode="custom_link", card_expiry_warn_days=5)
    assert (refused.value.status, refused.value.code) == (422, "VALIDATION_ERROR")
    assert "payment_failed_custom_link_url" in refused.value.details["fields"]
    with pytest.raises(InvalidRequestError) as wrong_type:
        easy.dunning_config.create_or_replace(custom_retry_schedule=[{"days_after_failure": "3"}])
    assert wrong_type.value.status == 422
    assert easy.dunning_config.retrieve().model_dump() == before


def test_the_idempotency_key_goes_through(easy):  # noqa: F811
    first = easy.dunning_config.update(card_expiry_warn_days=9, idempotency_key="dunning-9")
    again = easy.dunning_config.update(card_expiry_warn_days=9, idempotency_key="dunning-9")
    assert again.model_dump() == first.model_dump()
