-- Sign-in: sessions, single-use e-mail links (confirmation, guardian invitations).
-- Only SHA-256 digests of tokens are stored: a copy of the database opens no session.

create table session (
    token_hash bytea primary key,
    account_id bigint not null references account (id) on delete cascade,
    csrf_token text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index session_account on session (account_id);
create index session_expiry on session (expires_at);

create table email_token (
    token_hash bytea primary key,
    purpose text not null constraint email_token_purpose_known
        check (purpose in ('confirm_email', 'invite_guardian')),
    -- confirm_email: the account to confirm.
    account_id bigint references account (id) on delete cascade,
    -- invite_guardian: the household to join and the address invited.
    household_id bigint references household (id) on delete cascade,
    email text,
    created_by bigint references account (id) on delete set null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    constraint email_token_target check (
        (purpose = 'confirm_email' and account_id is not null)
        or (purpose = 'invite_guardian' and household_id is not null and email is not null))
);
