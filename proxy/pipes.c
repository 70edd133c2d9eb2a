// SPDX-License-Identifier: GPL-2.0-or-later
/* The relay's splice pipes and the budget of those parked threads keep. */
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "pipes.h"

#define PIPE_DEFAULT_SIZE 65536

static struct {
	size_t want;              /* --pipe-size */
	atomic_uint parked;       /* pipes kept by parked threads */
	atomic_ulong small;       /* pipes the kernel would not enlarge */
} pipes = { PIPE_DEFAULT_SIZE, 0, 0 };

void pipes_init(size_t want)
{
	pipes.want = want ? want : PIPE_DEFAULT_SIZE;
}

bool pipe_ready(struct relay_pipe *p)
{
	int sz;

	if (p->fd[0] >= 0)
		return true;
	if (pipe2(p->fd, O_CLOEXEC) < 0) {
		p->fd[0] = p->fd[1] = -1;
		return false;
	}
	p->size = pipes.want;
	if (fcntl(p->fd[1], F_SETPIPE_SZ, (int)p->size) < 0) {
		sz = fcntl(p->fd[1], F_GETPIPE_SZ);
		p->size = sz > 0 ? (size_t)sz : PIPE_DEFAULT_SIZE;
		atomic_fetch_add(&pipes.small, 1);
	}
	return true;
}

void pipe_drop(struct relay_pipe *p)
{
	if (p->fd[0] < 0)
		return;
	close(p->fd[0]);
	close(p->fd[1]);
	p->fd[0] = p->fd[1] = -1;
}

void pipe_park(struct relay_pipe *p, unsigned int budget)
{
	if (p->fd[0] < 0)
		return;
	if (atomic_fetch_add(&pipes.parked, 1) < budget) {
		p->parked = true;
		return;
	}
	atomic_fetch_sub(&pipes.parked, 1);
	pipe_drop(p);
}

void pipe_unpark(struct relay_pipe *p)
{
	if (p->parked)
		atomic_fetch_sub(&pipes.parked, 1);
	p->parked = false;
}

unsigned int pipes_parked(void)
{
	return atomic_load(&pipes.parked);
}

unsigned long pipes_small(void)
{
	return atomic_load(&pipes.small);
}
