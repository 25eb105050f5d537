-- Data rights and retention (RGPD): closing a household's account, and the retention job.
--
-- Names live in one place. A person's identity is in `account` (a guardian's or a staff
-- member's name, e-mail, phone, address) and a child's in `child`; every history table
-- (`reservation_event`, `attendance_mark`, `audit_entry`, invoices, payments, the ledger)
-- refers to them by id only. Closing a household blanks those identity rows, and the history
-- becomes pseudonymous without one of its rows being rewritten.

-- The audit log copied the acting member's e-mail into each entry: it now names the account
-- only, and readers join `account` for the address.
alter table audit_entry drop column actor_email;

-- A household closed at its own request, at the counter, or by the retention job.
alter table household add column closed_at timestamptz;

create table household_closure (
    household_id bigint primary key constraint household_closure_household_fk
        references household (id),
    closed_at timestamptz not null,
    -- 'family' (the guardian's own request), 'counter' (a manager), 'retention' (the job).
    via text not null constraint household_closure_via_known
        check (via in ('family', 'counter', 'retention')),
    -- The staff member at the counter; null for the family and the job.
    closed_by bigint constraint household_closure_closed_by_fk references account (id)
);

-- An absence's decision is final, but the family's free-text comment may still be erased
-- (set to ''), and nothing else with it.
create or replace function absence_decision_final() returns trigger language plpgsql as $$
begin
    if old.status <> 'pending'
       and not (new.comment = '' and (to_jsonb(new) - 'comment') = (to_jsonb(old) - 'comment')) then
        raise exception 'absence % is already decided', old.id
            using errcode = 'check_violation', constraint = 'absence_decision_final';
    end if;
    return new;
end;
$$;

-- The audit log stays append-only, except that the retention job may delete entries older
-- than six months (the shortest period the CNIL's recommendation on logging allows; the
-- configured period, `retention.audit_days`, is one year by default). Recent evidence cannot
-- be deleted by anyone holding the application's role.
create function audit_entry_retention() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and old.at < now() - interval '183 days' then
        return old;
    end if;
    raise exception '% is append-only', tg_table_name using errcode = 'restrict_violation';
end;
$$;
drop trigger audit_entry_append_only on audit_entry;
create trigger audit_entry_append_only before update or delete on audit_entry
    for each row execute function audit_entry_retention();
