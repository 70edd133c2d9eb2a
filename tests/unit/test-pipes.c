// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the relay's pipes and the parked-pipe budget (proxy/pipes.c). */
#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

#include "../../proxy/pipes.c"

static void test_ready(void)
{
	struct relay_pipe p = RELAY_PIPE_INIT;
	int fd;

	pipes_init(128 * 1024);
	g_assert_true(pipe_ready(&p));
	g_assert_cmpint(p.fd[0], >=, 0);
	g_assert_cmpuint(p.size, ==, 128 * 1024);
	g_assert_cmpint(fcntl(p.fd[1], F_GETPIPE_SZ), ==, 128 * 1024);
	fd = p.fd[0];
	g_assert_true(pipe_ready(&p)); /* kept: no new pipe */
	g_assert_cmpint(p.fd[0], ==, fd);
	pipe_drop(&p);
	g_assert_cmpint(p.fd[0], ==, -1);
	g_assert_cmpint(fcntl(fd, F_GETFD), ==, -1); /* closed */
	pipe_drop(&p); /* twice is harmless */
}

/* The chunk is what the pipe really holds, also when the kernel gives less
 * than was asked (beyond fs.pipe-max-size without CAP_SYS_RESOURCE). */
static void test_size_is_real(void)
{
	struct relay_pipe p = RELAY_PIPE_INIT;
	unsigned long small = pipes_small();

	pipes_init(1u << 30);
	g_assert_true(pipe_ready(&p));
	g_assert_cmpint(fcntl(p.fd[1], F_GETPIPE_SZ), ==, (int)p.size);
	if (p.size != 1u << 30)
		g_assert_cmpuint(pipes_small(), ==, small + 1);
	pipe_drop(&p);
	pipes_init(0);
	g_assert_true(pipe_ready(&p));
	g_assert_cmpuint(p.size, ==, PIPE_DEFAULT_SIZE);
	pipe_drop(&p);
}

static void test_budget(void)
{
	struct relay_pipe p[4] = { RELAY_PIPE_INIT, RELAY_PIPE_INIT, RELAY_PIPE_INIT,
				   RELAY_PIPE_INIT };
	struct relay_pipe none = RELAY_PIPE_INIT;

	pipes_init(65536);
	for (int i = 0; i < 4; i++)
		g_assert_true(pipe_ready(&p[i]));
	g_assert_cmpuint(pipes_parked(), ==, 0);
	pipe_park(&p[0], 2);
	pipe_park(&p[1], 2);
	g_assert_cmpuint(pipes_parked(), ==, 2);
	g_assert_cmpint(p[0].fd[0], >=, 0);
	g_assert_cmpint(p[1].fd[0], >=, 0);
	pipe_park(&p[2], 2); /* over the budget: dropped */
	g_assert_cmpint(p[2].fd[0], ==, -1);
	g_assert_cmpuint(pipes_parked(), ==, 2);
	pipe_park(&none, 2); /* no pipe: nothing counted */
	g_assert_cmpuint(pipes_parked(), ==, 2);
	pipe_unpark(&p[0]);
	g_assert_cmpuint(pipes_parked(), ==, 1);
	pipe_unpark(&p[0]); /* twice: counted once */
	g_assert_cmpuint(pipes_parked(), ==, 1);
	pipe_park(&p[3], 0); /* no budget at all */
	g_assert_cmpint(p[3].fd[0], ==, -1);
	pipe_unpark(&p[1]);
	g_assert_cmpuint(pipes_parked(), ==, 0);
	for (int i = 0; i < 4; i++)
		pipe_drop(&p[i]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pipes/ready", test_ready);
	g_test_add_func("/pipes/size-is-real", test_size_is_real);
	g_test_add_func("/pipes/budget", test_budget);
	return g_test_run();
}
