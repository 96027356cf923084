"""What a signed-in customer may do for themselves under the merchant's portal config."""
