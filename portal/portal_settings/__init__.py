"""What the merchant configures: the portal config and its rules, branding, custom domains."""
