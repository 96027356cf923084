"""Documents a customer keeps: the invoice PDF."""
