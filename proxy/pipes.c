// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pool of splice pipes. Idle pipes sit on a stack under one mutex (a
 * burst takes it twice: a few tens of nanoseconds against a splice's
 * microseconds); the most recently used pipe goes out first, its pages
 * still warm. Pipes are made on demand up to the cap and stay pooled.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "pipes.h"

#define PIPE_DEFAULT_SIZE 65536

static struct {
	pthread_mutex_t lock;
	size_t want;                 /* --pipe-size */
	unsigned int max;            /* the cap, busy or idle */
	unsigned int total;          /* pipes that exist */
	unsigned int nidle;          /* of which pooled */
	struct relay_pipe *idle;     /* the pool */
	unsigned long denied, small;
} pipes = { PTHREAD_MUTEX_INITIALIZER, PIPE_DEFAULT_SIZE, 0, 0, 0, NULL, 0, 0 };

static void pipe_close(struct relay_pipe *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
	free(p);
}

void pipes_init(size_t want, unsigned int max)
{
	pipes_fini();
	pthread_mutex_lock(&pipes.lock);
	pipes.want = want ? want : PIPE_DEFAULT_SIZE;
	pipes.max = max;
	pthread_mutex_unlock(&pipes.lock);
}

/* A new pipe as large as asked, or as the kernel allows. */
static struct relay_pipe *pipe_make(void)
{
	struct relay_pipe *p = malloc(sizeof(*p));
	int sz;

	if (!p)
		return NULL;
	if (pipe2(p->fd, O_CLOEXEC) < 0) {
		free(p);
		return NULL;
	}
	p->next = NULL;
	p->size = pipes.want;
	if (fcntl(p->fd[1], F_SETPIPE_SZ, (int)p->size) < 0) {
		sz = fcntl(p->fd[1], F_GETPIPE_SZ);
		p->size = sz > 0 ? (size_t)sz : PIPE_DEFAULT_SIZE;
		pthread_mutex_lock(&pipes.lock);
		pipes.small++;
		pthread_mutex_unlock(&pipes.lock);
	}
	return p;
}

struct relay_pipe *pipe_get(void)
{
	struct relay_pipe *p;
	bool make = false;

	pthread_mutex_lock(&pipes.lock);
	p = pipes.idle;
	if (p) {
		pipes.idle = p->next;
		pipes.nidle--;
	} else if (pipes.total < pipes.max) {
		pipes.total++; /* reserved while it is made, outside the lock */
		make = true;
	} else {
		pipes.denied++;
	}
	pthread_mutex_unlock(&pipes.lock);
	if (!make)
		return p;
	p = pipe_make();
	if (!p) {
		pthread_mutex_lock(&pipes.lock);
		pipes.total--;
		pipes.denied++;
		pthread_mutex_unlock(&pipes.lock);
	}
	return p;
}

void pipe_put(struct relay_pipe *p)
{
	pthread_mutex_lock(&pipes.lock);
	if (pipes.total > pipes.max) { /* adopted beyond the cap */
		pipes.total--;
		pthread_mutex_unlock(&pipes.lock);
		pipe_close(p);
		return;
	}
	p->next = pipes.idle;
	pipes.idle = p;
	pipes.nidle++;
	pthread_mutex_unlock(&pipes.lock);
}

struct relay_pipe *pipe_adopt(const int fd[2], size_t size)
{
	struct relay_pipe *p = malloc(sizeof(*p));

	if (!p) {
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	*p = (struct relay_pipe){ { fd[0], fd[1] }, size, NULL };
	pthread_mutex_lock(&pipes.lock);
	pipes.total++;
	pthread_mutex_unlock(&pipes.lock);
	return p;
}

void pipe_discard(struct relay_pipe *p)
{
	pipe_close(p);
	pthread_mutex_lock(&pipes.lock);
	pipes.total--;
	pthread_mutex_unlock(&pipes.lock);
}

void pipes_fini(void)
{
	struct relay_pipe *p, *next;

	pthread_mutex_lock(&pipes.lock);
	p = pipes.idle;
	pipes.idle = NULL;
	pipes.total -= pipes.nidle;
	pipes.nidle = 0;
	pthread_mutex_unlock(&pipes.lock);
	for (; p; p = next) {
		next = p->next;
		pipe_close(p);
	}
}

void pipes_stats(struct pipes_stats *s)
{
	pthread_mutex_lock(&pipes.lock);
	*s = (struct pipes_stats){ .total = pipes.total, .idle = pipes.nidle, .max = pipes.max,
				   .denied = pipes.denied, .small = pipes.small };
	pthread_mutex_unlock(&pipes.lock);
}
