-- The jobs view with what 005 (rows_rejected) and 006 (throttled time,
-- waiting, the batch size in effect) added: one definition for both.
CREATE OR REPLACE VIEW migrated.job_info AS
SELECT j.id, j.plan, j.tenant, j.state,
       json_build_object(
           'id', j.id, 'plan', j.plan, 'tenant', j.tenant, 'pair', j.pair,
           'state', j.state,
           'kind', j.kind, 'rollback_of', j.rollback_of,
           'priority', j.priority, 'batch_size', j.batch_size,
           'dry_run', j.dry_run, 'skip_checks', j.skip_checks,
           'fresh', j.fresh, 'parameters', j.args,
           'steps', coalesce(s.steps, '[]'::json),
           'rows_done', coalesce(s.rows_done, 0),
           'rows_estimated', coalesce(s.rows_estimated, 0),
           'rows_changed', coalesce(s.rows_changed, 0),
           'rows_rejected', (SELECT count(*) FROM migrated.rejects r
                             WHERE r.job_id = j.id),
           'warnings', to_json(j.warnings),
           'created', to_char(j.created AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'started', to_char(j.started AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'finished', to_char(j.finished AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'error', j.error,
           'throttled_sec', round(j.throttled_ms / 1000.0, 3),
           'waiting', CASE WHEN j.state = 'running' THEN j.waiting END,
           'waiting_since', CASE WHEN j.state = 'running' THEN
               to_char(j.waiting_since AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
           'max_rows_per_second', j.max_rows_per_second) AS info
FROM migrated.jobs j
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object(
               'name', st.step, 'state', st.state,
               'rows_done', st.rows_done,
               'rows_estimated', st.rows_estimated,
               'rows_changed', st.rows_changed,
               'batches', st.batches, 'checkpoint', st.checkpoint,
               'batch_size', st.batch_now)
               ORDER BY st.ord) AS steps,
           sum(st.rows_done)::bigint AS rows_done,
           sum(st.rows_estimated)::bigint AS rows_estimated,
           sum(st.rows_changed)::bigint AS rows_changed
    FROM migrated.job_steps st
    WHERE st.job_id = j.id
) s ON true;
