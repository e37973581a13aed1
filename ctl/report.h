/*
 * Reports of the safety methods for people: pre-checks (Validate),
 * post-verification and source-vs-target compare (Verify), rollbacks,
 * backups and the audit log.
 * Each function returns 0, or -1 if out of memory.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include <jansson.h>

/* Validate's results: a line per tenant, a row per check. */
int report_validation(FILE *f, const json_t *results)
        __attribute__((warn_unused_result));
/*
 * Verify's reply parameters: the job, the outcome, a row per check and,
 * with compare, a row per copy step compared.
 */
int report_verification(FILE *f, const json_t *reply)
        __attribute__((warn_unused_result));
/* VerifyPlan's reply: a line per job, a row per check and compared step. */
int report_plan_verification(FILE *f, const json_t *reply)
        __attribute__((warn_unused_result));
/* RollbackPlan's reply: the jobs stopped, a row per job considered. */
int report_plan_rollback(FILE *f, const json_t *reply)
        __attribute__((warn_unused_result));
/*
 * "Rollback of job 12 queued as job 13." target is what Rollback was
 * given: {id} or {plan, tenant}.
 */
void report_rollback_queued(FILE *f, long long job, const json_t *target);
/* ListBackups: a row per job and step, sizes and ages for people. */
int report_backups(FILE *f, const json_t *backups)
        __attribute__((warn_unused_result));
/* DropBackups: "Dropped 1200 backup rows." */
int report_dropped(FILE *f, const json_t *rows)
        __attribute__((warn_unused_result));
/* The audit log: a row per entry, parameters shown compactly. */
int report_log(FILE *f, const json_t *entries)
        __attribute__((warn_unused_result));

#endif
