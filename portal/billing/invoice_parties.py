"""Who an invoice is between: the seller and buyer snapshots taken when it is issued, so a
later change of name or address never rewrites an invoice already sent."""

from portal.models import Company, Customer, Invoice

from .addresses import customer_address


def seller_details(company: Company) -> dict:
    """The merchant as an invoice names it (its brand colour is styling, not content)."""
    lines = [line.strip() for line in (company.address or "").splitlines() if line.strip()]
    return {"name": company.name, "address_lines": lines, "support_email": company.support_email}


def buyer_details(customer) -> dict:
    return {
        "id": customer.id,
        "name": f"{customer.first_name} {customer.last_name}".strip(),
        "company_name": customer.company_name,
        "email": customer.email,
        "phone": customer.phone,
        "address": customer_address(customer),
        "tax_id": customer.tax_id,
    }


def parties(invoice: Invoice, company: Company | None = None, customer=None) -> tuple[dict, dict]:
    """(seller, buyer) as they were when ``invoice`` was issued. Invoices issued before the
    snapshot existed fall back to today's details (``company``/``customer``, else loaded)."""
    seller = invoice.seller
    if seller is None:
        seller = seller_details(company or Company.get_by_id(invoice.company_id))
    buyer = invoice.buyer
    if buyer is None:
        buyer = buyer_details(customer or Customer.get_by_id(invoice.customer_id))
    return seller, buyer


def snapshot_missing_parties() -> int:
    """Give invoices issued before snapshots existed their parties as they are now (the
    best record left), once: from then on they never change. Returns how many changed."""
    changed = 0
    pending = Invoice.select(Invoice.customer).where(Invoice.buyer.is_null()).distinct()
    for customer in Customer.select().where(Customer.id.in_(pending)):
        company = Company.get_by_id(customer.company_id)
        changed += (
            Invoice.update(seller=seller_details(company), buyer=buyer_details(customer))
            .where((Invoice.customer == customer.id) & Invoice.buyer.is_null())
            .execute()
        )
    return changed
