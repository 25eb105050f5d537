-- Payments at the counter: chèques vacances as a means, and a receipt number per counter
-- payment, gapless per régie and year (the invoice_sequence row of kind 'receipt', taken in
-- the payment's transaction). Null for payments that get no counter receipt (PayFiP, card).
alter table payment drop constraint payment_means_known;
alter table payment add constraint payment_means_known
    check (means in ('card', 'sepa_debit', 'cash', 'cheque', 'transfer', 'cesu', 'cheques_vacances', 'payfip'));

alter table invoice_sequence drop constraint invoice_sequence_kind_known;
alter table invoice_sequence add constraint invoice_sequence_kind_known
    check (kind in ('invoice', 'credit_note', 'receipt'));

alter table payment
    add column receipt_number text constraint payment_receipt_number_unique unique;
