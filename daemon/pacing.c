#include "pacing.h"

static long long
clamp(const struct pacing *p, long long size)
{
	if (p->max > 0 && size > p->max)
		size = p->max;
	if (size < p->min)
		size = p->min;
	return size < 1 ? 1 : size;
}

void
pacing_init(struct pacing *p, long long size, long long target_ms,
            long long min, long long max)
{
	*p = (struct pacing){.target_ms = target_ms > 0 ? target_ms : 0,
	                     .min = min > 0 ? min : 1,
	                     .max = max > 0 ? max : 0};
	if (p->max > 0 && p->max < p->min)
		p->max = p->min;
	p->size = clamp(p, size);
}

void
pacing_set_size(struct pacing *p, long long size)
{
	p->size = clamp(p, size);
	/* the rate measured so far still holds; only the size changes */
}

long long
pacing_batch_done(struct pacing *p, long long rows, long long ms)
{
	double ideal, grown;

	if (p->target_ms == 0 || rows <= 0)
		return p->size;
	if (ms < 1)
		ms = 1;
	/* pt-osc's weighted rate: older batches count less and less */
	p->rows = (double)rows + p->rows * PACING_WEIGHT;
	p->ms = (double)ms + p->ms * PACING_WEIGHT;
	if (ms > p->target_ms) {
		/* ran long: this batch's own rate, at once */
		ideal = (double)rows * (double)p->target_ms / (double)ms;
		if (ideal < (double)p->size)
			p->size = clamp(p, (long long)ideal);
		return p->size;
	}
	ideal = p->rows / p->ms * (double)p->target_ms;
	grown = (double)p->size * PACING_MAX_GROWTH;
	if (ideal > grown)
		ideal = grown;
	if (ideal < (double)p->size && rows < p->size)
		/* a short last range (the step's end) says nothing of speed */
		return p->size;
	p->size = clamp(p, (long long)ideal);
	return p->size;
}

long long
pacing_budget_spend(struct pacing_budget *b, long long now_ms, long long rows,
                    long long cap)
{
	if (cap <= 0 || rows <= 0) {
		b->next_ms = 0;
		return 0;
	}
	if (b->next_ms < now_ms)
		b->next_ms = now_ms;
	b->next_ms += rows * 1000 / cap;
	return b->next_ms - now_ms;
}

long long
pacing_budget_wait(const struct pacing_budget *b, long long now_ms)
{
	return b->next_ms > now_ms ? b->next_ms - now_ms : 0;
}
