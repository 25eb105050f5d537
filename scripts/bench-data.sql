-- A 10,000-child commune for backup and restore timings: 20 schools, 7,000 households,
-- 10,000 children enrolled Mon/Tue/Thu/Fri for 2026-2027 with every such day booked (about
-- 1.6 million reservations and as many history rows). Deterministic: no random().
begin;
insert into school (name) select 'École ' || n from generate_series(1, 20) n;
insert into school_year (label, first_day, last_day) values ('2026-2027', '2026-09-01', '2027-07-03')
    on conflict do nothing;
insert into household select from generate_series(1, 7000) n;
insert into account (household_id, email, password_hash, first_name, last_name, email_confirmed_at)
select h.id, 'famille.' || h.id || '@bench.test', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
       'Parent', 'Famille ' || h.id, now()
from household h;
insert into child (household_id, first_name, last_name, birth_date, school_id, class_level, diet)
select 1 + (n - 1) % 7000, 'Enfant ' || n, 'Famille ' || (1 + (n - 1) % 7000),
       date '2015-01-01' + (n % 2500),
       (select min(id) from school) + n % 20,
       (array['PS','MS','GS','CP','CE1','CE2','CM1','CM2'])[1 + n % 8],
       (array['standard','vegetarian','no_pork'])[1 + n % 3]
from generate_series(1, 10000) n;
insert into enrollment (child_id, school_year_id, weekdays, status, decided_at)
select c.id, y.id, '{1,2,4,5}', 'validated', now() from child c, school_year y where y.label = '2026-2027';
insert into reservation (child_id, service_date, booked)
select c.id, d::date, true
from child c, generate_series(date '2026-09-01', date '2027-07-03', interval '1 day') d
where extract(isodow from d) in (1, 2, 4, 5);
insert into reservation_event (child_id, service_date, old_booked, new_booked, source)
select child_id, service_date, false, true, 'enrollment' from reservation;
commit;
analyze;
