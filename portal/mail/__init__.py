"""Transactional e-mail: the outbox, SMTP delivery and the receipts sent when an invoice is paid."""
