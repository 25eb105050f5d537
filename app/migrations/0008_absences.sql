-- Absences declared by families, decided by a manager, with an optional medical certificate.
--
-- One declaration covers one or several children of one household over a range of days; the
-- days actually concerned (each child's service days in the range) are rows of
-- `absence_day`, which billing reads. A declaration is decided once: pending, then accepted
-- or refused (a refusal says why); the decision is never overwritten (trigger below) and is
-- also in the audit log.

-- A certificate's file lives under `<data_dir>/certificates/<storage_key>`, never in a served
-- folder; the row says what it is. The type is the one sniffed from the file's first bytes.
create table certificate (
    id bigint generated always as identity primary key,
    household_id bigint not null constraint certificate_household_fk references household (id) on delete restrict,
    storage_key uuid not null constraint certificate_storage_key_unique unique,
    media_type text not null
        constraint certificate_media_type_known check (media_type in ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes integer not null
        constraint certificate_size check (size_bytes between 1 and 5242880),
    sha256 bytea not null constraint certificate_sha256_length check (length(sha256) = 32),
    uploaded_by bigint not null constraint certificate_uploaded_by_fk references account (id),
    uploaded_at timestamptz not null default clock_timestamp()
);
create index certificate_household on certificate (household_id, id);
-- A certificate is evidence: it is replaced by a new one, never changed.
create trigger certificate_append_only before update or delete on certificate
    for each row execute function refuse_change();

create table absence (
    id bigint generated always as identity primary key,
    activity text not null default 'canteen' constraint absence_activity_known check (activity in ('canteen')),
    household_id bigint not null constraint absence_household_fk references household (id) on delete restrict,
    first_day date not null,
    last_day date not null,
    reason text not null constraint absence_reason_known check (reason in ('illness', 'other')),
    comment text not null default '' constraint absence_comment_length check (length(comment) <= 1000),
    declared_by bigint not null constraint absence_declared_by_fk references account (id),
    declared_at timestamptz not null default clock_timestamp(),
    certificate_id bigint constraint absence_certificate_fk references certificate (id),
    status text not null default 'pending'
        constraint absence_status_known check (status in ('pending', 'accepted', 'refused')),
    decided_by bigint constraint absence_decided_by_fk references account (id),
    decided_at timestamptz,
    decision_reason text,
    constraint absence_days_ordered check (first_day <= last_day),
    constraint absence_decision_complete check (
        (status = 'pending' and decided_at is null and decision_reason is null)
        or (status = 'accepted' and decided_at is not null)
        or (status = 'refused' and decided_at is not null
            and length(trim(coalesce(decision_reason, ''))) > 0))
);
create index absence_household on absence (household_id, first_day desc, id);
create index absence_pending on absence (activity, declared_at, id) where status = 'pending';

-- Each child's service days covered by a declaration, with how much notice it gave for that
-- day (cantine_domain::absence::Notice): the facts billing needs to apply its own rule.
create table absence_day (
    absence_id bigint not null constraint absence_day_absence_fk references absence (id) on delete cascade,
    child_id bigint not null constraint absence_day_child_fk references child (id) on delete restrict,
    service_date date not null,
    notice text not null
        constraint absence_day_notice_known check (notice in ('before_deadline', 'same_morning_illness', 'late')),
    primary key (absence_id, child_id, service_date)
);
create index absence_day_child on absence_day (child_id, service_date);

-- A decision is final: once an absence is accepted or refused, its row no longer changes
-- (a new declaration is the way to say something else). A pending one may still get its
-- certificate, and its decision.
create function absence_decision_final() returns trigger language plpgsql as $$
begin
    if old.status <> 'pending' then
        raise exception 'absence % is already decided', old.id
            using errcode = 'check_violation', constraint = 'absence_decision_final';
    end if;
    return new;
end;
$$;
create trigger absence_decision_final before update on absence
    for each row execute function absence_decision_final();
create trigger absence_no_delete before delete on absence
    for each row execute function refuse_change();
