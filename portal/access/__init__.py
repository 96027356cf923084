"""Who may act: magic links, handoff codes, sign-in, sessions for customers and merchant users."""
