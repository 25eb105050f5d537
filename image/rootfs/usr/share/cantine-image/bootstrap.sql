-- The roles and database of the appliance's PostgreSQL cluster, for `postgres --single -j`: at
-- build time (scripts/customize-hook.sh, on the cluster the image ships) and at first boot when
-- that cluster was removed (/usr/lib/cantine-image/firstboot). In -j mode a statement ends at a
-- semicolon followed by a blank line, so each one is followed by one (and no comment ends with
-- a semicolon). The password of "cantine" is set at first boot, never here; CREATEDB is for
-- the restore drill's scratch database.

create role cantine login createdb;

create database cantine owner cantine encoding 'UTF8' template template0;

create role prometheus login in role pg_monitor;

