-- The invoice a payment named (it pays it first): an idempotent retry must name the same one,
-- so the payment keeps what its request said. Null for the payments recorded before, and for
-- payments that named none.
alter table payment
    add column invoice_id bigint constraint payment_invoice_fk references invoice (id) on delete restrict;
