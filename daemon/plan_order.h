/*
 * The order of a plan's steps: every step after the steps its after key
 * names, and otherwise in file order. Pure: steps in, steps out.
 */
#ifndef PLAN_ORDER_H
#define PLAN_ORDER_H

#include <stddef.h>

#include "plan.h"

/* The index of the step called name among steps[0..n), or (size_t)-1. */
size_t plan_step_index(const struct plan_step *steps, size_t n,
                       const char *name);

/*
 * Sorts steps[0..n) (their name, after and nafter are read) so that every
 * step comes after its after steps, the order of the file kept where after
 * leaves it free. after_line[i] is where steps[i] names them, for
 * messages. Returns -1, steps unchanged, with the problem in msg and its
 * line in *line: an unknown step, or a dependency cycle named in full
 * ("a -> b -> a": a runs after b, which runs after a); *line is 0 when out
 * of memory.
 */
int plan_order_steps(struct plan_step *steps, size_t n,
                     const unsigned *after_line, unsigned *line, char *msg,
                     size_t len) __attribute__((warn_unused_result));

#endif
