// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the relay's pipe pool (proxy/pipes.c). */
#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

#include "../../proxy/pipes.c"

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static struct pipes_stats stats(void)
{
	struct pipes_stats s;

	pipes_stats(&s);
	return s;
}

static void test_get_put(void)
{
	struct relay_pipe *p, *q;
	int fd;

	pipes_init(128 * 1024, 4);
	p = pipe_get();
	g_assert_nonnull(p);
	g_assert_cmpuint(p->size, ==, 128 * 1024);
	g_assert_cmpint(fcntl(p->fd[1], F_GETPIPE_SZ), ==, 128 * 1024);
	g_assert_cmpuint(stats().total, ==, 1);
	g_assert_cmpuint(stats().idle, ==, 0);
	fd = p->fd[0];
	pipe_put(p);
	g_assert_cmpuint(stats().idle, ==, 1);
	q = pipe_get(); /* the pooled one again: no new pipe */
	g_assert_true(q == p);
	g_assert_cmpint(q->fd[0], ==, fd);
	g_assert_cmpuint(stats().total, ==, 1);
	pipe_put(q);
	pipes_fini();
	g_assert_false(fd_open(fd)); /* idle pipes closed */
	g_assert_cmpuint(stats().total, ==, 0);
	pipes_fini(); /* twice is harmless */
}

/* A handed-over pipe with bytes in flight joins the count even at the cap;
 * emptied and given back, it is pooled only while the pool is under it. */
static void test_adopt(void)
{
	struct relay_pipe *p, *a, *b;
	int fd[2], fd2[2];
	char buf[3];

	pipes_init(65536, 1);
	g_assert_nonnull(p = pipe_get());
	g_assert_cmpint(pipe2(fd, O_CLOEXEC), ==, 0);
	g_assert_cmpint(write(fd[1], "abc", 3), ==, 3);
	a = pipe_adopt(fd, 65536);
	g_assert_nonnull(a);
	g_assert_cmpint(a->fd[0], ==, fd[0]);
	g_assert_cmpuint(stats().total, ==, 2); /* beyond the cap of 1 */
	g_assert_null(pipe_get());
	g_assert_cmpint(read(a->fd[0], buf, 3), ==, 3);
	pipe_put(a); /* over the cap: closed, not pooled */
	g_assert_false(fd_open(fd[0]));
	g_assert_cmpuint(stats().total, ==, 1);
	g_assert_cmpuint(stats().idle, ==, 0);
	/* under the cap an adopted pipe is pooled like any */
	pipe_put(p);
	pipes_fini();
	pipes_init(65536, 2);
	g_assert_cmpint(pipe2(fd2, O_CLOEXEC), ==, 0);
	b = pipe_adopt(fd2, 65536);
	pipe_put(b);
	g_assert_cmpuint(stats().idle, ==, 1);
	g_assert_true(pipe_get() == b);
	pipe_discard(b);
	g_assert_cmpuint(stats().total, ==, 0);
	pipes_fini();
}

/* One cap bounds every pipe, busy or idle; at the cap pipe_get says NULL
 * (the pump copies) and a pipe given back serves the next burst. */
static void test_cap(void)
{
	struct relay_pipe *p[3];
	unsigned long denied;

	pipes_init(65536, 3);
	for (int i = 0; i < 3; i++)
		g_assert_nonnull(p[i] = pipe_get());
	denied = stats().denied;
	g_assert_null(pipe_get());
	g_assert_cmpuint(stats().denied, ==, denied + 1);
	g_assert_cmpuint(stats().total, ==, 3);
	pipe_put(p[1]);
	g_assert_true(pipe_get() == p[1]);
	pipe_put(p[1]);
	pipe_put(p[0]);
	g_assert_cmpuint(stats().total, ==, 3); /* idle ones count */
	g_assert_cmpuint(stats().idle, ==, 2);
	g_assert_nonnull(pipe_get());
	g_assert_nonnull(pipe_get());
	g_assert_null(pipe_get());
	pipes_init(65536, 0); /* no pipes at all: always copy */
	g_assert_null(pipe_get());
	for (int i = 0; i < 3; i++)
		pipe_discard(p[i]);
	g_assert_cmpuint(stats().total, ==, 0);
}

/* A pipe with bytes left is closed, never pooled, and frees its place. */
static void test_discard(void)
{
	struct relay_pipe *p;
	int rfd, wfd;

	pipes_init(65536, 1);
	p = pipe_get();
	g_assert_nonnull(p);
	rfd = p->fd[0];
	wfd = p->fd[1];
	g_assert_cmpint(write(wfd, "left", 4), ==, 4);
	pipe_discard(p);
	g_assert_false(fd_open(rfd));
	g_assert_false(fd_open(wfd));
	g_assert_cmpuint(stats().total, ==, 0);
	g_assert_cmpuint(stats().idle, ==, 0);
	p = pipe_get(); /* a fresh one in its place, empty */
	g_assert_nonnull(p);
	g_assert_cmpint(fcntl(p->fd[0], F_SETFL, O_NONBLOCK), ==, 0);
	{
		char b[8];

		g_assert_cmpint(read(p->fd[0], b, sizeof(b)), ==, -1);
	}
	pipe_put(p);
	pipes_fini();
}

/* The chunk is what the pipe really holds, also when the kernel gives less
 * than was asked (beyond fs.pipe-max-size without CAP_SYS_RESOURCE). */
static void test_size_is_real(void)
{
	struct relay_pipe *p;
	unsigned long small = stats().small;

	pipes_init(1u << 30, 2);
	p = pipe_get();
	g_assert_nonnull(p);
	g_assert_cmpint(fcntl(p->fd[1], F_GETPIPE_SZ), ==, (int)p->size);
	if (p->size != 1u << 30)
		g_assert_cmpuint(stats().small, ==, small + 1);
	pipe_discard(p);
	pipes_init(0, 2);
	p = pipe_get();
	g_assert_nonnull(p);
	g_assert_cmpuint(p->size, ==, PIPE_DEFAULT_SIZE);
	pipe_put(p);
	pipes_fini();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pipes/get-put", test_get_put);
	g_test_add_func("/pipes/adopt", test_adopt);
	g_test_add_func("/pipes/cap", test_cap);
	g_test_add_func("/pipes/discard", test_discard);
	g_test_add_func("/pipes/size-is-real", test_size_is_real);
	return g_test_run();
}
