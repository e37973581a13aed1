#include "worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct job {
	struct job *next;
	worker_fn work;
	worker_done_fn done;
	void *arg;
};

/* What the job's thread sends back: the job, which the loop then owns. */
struct handoff {
	struct job *job;
};

/*
 * What the loop and the thread share, under lock; the last of the two to
 * let go frees it (a thread stuck in a call at shutdown is left behind).
 */
struct shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, **tail;
	bool stop; /* exit once the queue is empty */
	bool busy; /* a job is running */
	int refs;
	int fd; /* the thread's end of the socket pair */
};

struct worker {
	struct shared *sh;
	pthread_t tid;
	int fd; /* the loop's end */
	struct event *ev;
};

static void
shared_unref(struct shared *sh)
{
	bool last;

	pthread_mutex_lock(&sh->lock);
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->lock);
	if (!last)
		return;
	while (sh->head != NULL) {
		struct job *j = sh->head;
		sh->head = j->next;
		free(j);
	}
	if (sh->fd >= 0)
		close(sh->fd);
	pthread_cond_destroy(&sh->cond);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

static void *
thread_main(void *arg)
{
	struct shared *sh = arg;

	pthread_mutex_lock(&sh->lock);
	for (;;) {
		struct job *j;

		while (sh->head == NULL && !sh->stop)
			pthread_cond_wait(&sh->cond, &sh->lock);
		if (sh->head == NULL)
			break; /* stopped, and nothing left */
		j = sh->head;
		sh->head = j->next;
		if (sh->head == NULL)
			sh->tail = &sh->head;
		sh->busy = true;
		pthread_mutex_unlock(&sh->lock);
		j->work(j->arg);
		/* a loop that gave up on us closed its end: then the send
		 * fails and the job is dropped here */
		if (send(sh->fd, &(struct handoff){j}, sizeof(struct handoff),
		         MSG_NOSIGNAL) != (ssize_t)sizeof(struct handoff))
			free(j);
		pthread_mutex_lock(&sh->lock);
		sh->busy = false;
	}
	pthread_mutex_unlock(&sh->lock);
	shared_unref(sh);
	return NULL;
}

/* Calls done for every job the thread has finished. */
static void
take_done(struct worker *w)
{
	struct handoff h;

	while (recv(w->fd, &h, sizeof(h), MSG_DONTWAIT) == (ssize_t)sizeof(h)) {
		struct job *j = h.job;
		j->done(j->arg, true);
		free(j);
	}
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	take_done(arg);
}

struct worker *
worker_new(struct event_base *base)
{
	struct worker *w = calloc(1, sizeof(*w));
	struct shared *sh = calloc(1, sizeof(*sh));
	int sv[2] = {-1, -1};

	if (w == NULL || sh == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(w);
		free(sh);
		return NULL;
	}
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->cond, NULL);
	sh->tail = &sh->head;
	sh->fd = sv[1];
	sh->refs = 2;
	w->fd = sv[0];
	w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, on_done, w);
	if (w->ev == NULL || event_add(w->ev, NULL) < 0 ||
	    pthread_create(&w->tid, NULL, thread_main, sh) != 0) {
		sh->refs = 1;
		shared_unref(sh);
		if (w->ev != NULL)
			event_free(w->ev);
		close(w->fd);
		free(w);
		return NULL;
	}
	w->sh = sh;
	return w;
}

int
worker_run(struct worker *w, worker_fn work, worker_done_fn done, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->sh->lock);
	*w->sh->tail = j;
	w->sh->tail = &j->next;
	pthread_cond_signal(&w->sh->cond);
	pthread_mutex_unlock(&w->sh->lock);
	return 0;
}

void
worker_free(struct worker *w, bool finish)
{
	struct shared *sh;
	struct job *dropped = NULL;
	bool busy;

	if (w == NULL)
		return;
	sh = w->sh;
	pthread_mutex_lock(&sh->lock);
	sh->stop = true;
	if (!finish) {
		dropped = sh->head;
		sh->head = NULL;
		sh->tail = &sh->head;
	}
	busy = sh->busy;
	pthread_cond_signal(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
	if (finish || !busy)
		pthread_join(w->tid, NULL);
	else
		pthread_detach(w->tid);
	take_done(w);
	while (dropped != NULL) {
		struct job *j = dropped;
		dropped = j->next;
		j->done(j->arg, false);
		free(j);
	}
	event_free(w->ev);
	close(w->fd);
	shared_unref(sh);
	free(w);
}
