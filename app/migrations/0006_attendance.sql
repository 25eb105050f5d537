-- Attendance: who actually ate, marked by the canteen agents on a tablet that may be offline.
--
-- `attendance_mark` is the history: every mark as sent, append-only. A mark carries the id
-- its device generated (`client_id`), so a mark sent twice (a retry after a lost answer) is
-- recorded once. `attendance` is the current state, one row per child, activity and day: the
-- mark made LAST (by `marked_at`, the device's time clamped to the server's) wins, whatever
-- order the devices' queues arrive in. `attendance_lock` closes a school's day: afterwards
-- only a manager corrects it, with a reason. Billing reads the locked days.

create table attendance_mark (
    id bigint generated always as identity primary key,
    client_id uuid not null constraint attendance_mark_client_id_unique unique,
    activity text not null default 'canteen' constraint attendance_mark_activity_known check (activity in ('canteen')),
    child_id bigint not null constraint attendance_mark_child_fk references child (id) on delete restrict,
    -- The child's school when marked: the lock and the list are per school.
    school_id bigint not null constraint attendance_mark_school_fk references school (id) on delete restrict,
    service_date date not null,
    present boolean not null,
    -- Not booked that day: a child who eats anyway (billing may surcharge it).
    walk_in boolean not null,
    -- When the agent tapped, by the device's clock, never later than `received_at`.
    marked_at timestamptz not null,
    received_at timestamptz not null default clock_timestamp(),
    marked_by bigint not null constraint attendance_mark_marked_by_fk references account (id) on delete restrict,
    -- A correction of a locked day says why.
    after_lock boolean not null default false,
    reason text,
    constraint attendance_mark_not_ahead check (marked_at <= received_at),
    constraint attendance_mark_reason_after_lock
        check (not after_lock or length(trim(coalesce(reason, ''))) > 0),
    constraint attendance_mark_reason_length check (reason is null or length(reason) <= 300)
);
create index attendance_mark_day on attendance_mark (school_id, activity, service_date);
create index attendance_mark_child_day on attendance_mark (child_id, activity, service_date, id);
create trigger attendance_mark_append_only before update or delete on attendance_mark
    for each row execute function refuse_change();

create table attendance (
    child_id bigint not null constraint attendance_child_fk references child (id) on delete restrict,
    activity text not null default 'canteen' constraint attendance_activity_known check (activity in ('canteen')),
    service_date date not null,
    school_id bigint not null constraint attendance_school_fk references school (id) on delete restrict,
    present boolean not null,
    walk_in boolean not null,
    marked_at timestamptz not null,
    -- The mark that holds: ties on `marked_at` go to the mark received last.
    mark_id bigint not null constraint attendance_mark_fk references attendance_mark (id) on delete restrict,
    constraint attendance_pkey primary key (child_id, activity, service_date)
);
create index attendance_school_day on attendance (school_id, activity, service_date);
-- A school's children, for its day's list (and any other per-school read).
create index if not exists child_school on child (school_id);

create table attendance_lock (
    school_id bigint not null constraint attendance_lock_school_fk references school (id) on delete restrict,
    activity text not null default 'canteen' constraint attendance_lock_activity_known check (activity in ('canteen')),
    service_date date not null,
    locked_by bigint not null constraint attendance_lock_locked_by_fk references account (id) on delete restrict,
    locked_at timestamptz not null default clock_timestamp(),
    constraint attendance_lock_pkey primary key (school_id, activity, service_date)
);
-- What billing read must not move under it: a lock is never lifted.
create trigger attendance_lock_append_only before update or delete on attendance_lock
    for each row execute function refuse_change();
