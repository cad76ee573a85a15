-- 2 000 groups over 100 départements (5 % on two), 200 000 accounts, 230 000 memberships
-- (15 % hosted), 2 000 scopes.
CREATE TEMP TABLE codes AS SELECT row_number() OVER (ORDER BY code) AS n, code FROM area;
INSERT INTO app_group (name, organisation, areas)
SELECT 'G' || g, 'caf',
  CASE WHEN g % 20 = 0
    THEN ARRAY[(SELECT code FROM codes WHERE n = 1 + g % 100), (SELECT code FROM codes WHERE n = 1 + (g + 7) % 100)]::varchar[]
    ELSE ARRAY[(SELECT code FROM codes WHERE n = 1 + g % 100)]::varchar[] END
FROM generate_series(1, 2000) g;
CREATE TEMP TABLE gs AS SELECT row_number() OVER (ORDER BY name) AS n, id FROM app_group;
INSERT INTO app_user (email, first_name, last_name, is_helper)
SELECT 'u' || i || '@bench.fr', 'P' || i, 'N' || i, true FROM generate_series(1, 200000) i;
CREATE TEMP TABLE us AS SELECT row_number() OVER (ORDER BY email) AS n, id FROM app_user;
INSERT INTO membership ("user", "group", is_manager, governs_account)
SELECT us.id, gs.id, us.n % 25 = 0, true FROM us JOIN gs ON gs.n = 1 + us.n % 2000;
INSERT INTO membership ("user", "group", is_manager, governs_account)
SELECT us.id, gs.id, false, false FROM us JOIN gs ON gs.n = 1 + (us.n * 7) % 2000 WHERE us.n % 7 = 0 AND (us.n * 7) % 2000 <> us.n % 2000;
INSERT INTO manager_scope ("user", role, organisation, area)
SELECT us.id, 'observer', NULL, (SELECT code FROM codes WHERE n = 1 + us.n % 100) FROM us WHERE us.n % 100 = 3;
INSERT INTO app_user (email, is_admin, admin_areas) VALUES ('admin75@bench.fr', true, ARRAY['75']);
ANALYZE;
