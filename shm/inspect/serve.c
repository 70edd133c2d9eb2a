// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pepsal-shm serve: the metrics over HTTP for a Prometheus server to scrape.
 *
 * One process, one poll loop, no threads. GET (or HEAD) /metrics answers the
 * text format, attaching to the table at each scrape, so the endpoint
 * outlives restarts of pepsal (pepsal_table_up says whether the table was
 * there). Every client has one deadline for its whole exchange, a request
 * is at most REQUEST_MAX bytes, and at most MAX_CLIENTS are served at once:
 * a slow or hostile client costs a slot for CLIENT_TIMEOUT_MS, nothing more.
 * The listening address is loopback unless --listen says otherwise
 * (":PORT" alone: every address, IPv6 and IPv4). http.c reads the requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "inspect.h"
#include "pepsal_endpoint.h"
#include "pepsal_table.h"

#define MAX_CLIENTS 16
#define REQUEST_MAX HTTP_REQUEST_MAX
#define CLIENT_TIMEOUT_MS 10000

struct client {
	int fd;               /* -1: free */
	uint64_t deadline;    /* CLOCK_MONOTONIC ns */
	char req[REQUEST_MAX];
	size_t len;
	char *out;            /* response being sent, NULL while reading */
	size_t out_len, out_off;
};

static struct client clients[MAX_CLIENTS];

static void client_close(struct client *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

/* Build the response to C's complete request into c->out. */
static void respond(struct client *c, int status, const char *reason, const char *type,
		    const char *body, size_t body_len, bool head)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "%sConnection: close\r\n\r\n", status, reason, type, body_len,
			 status == 405 ? "Allow: GET, HEAD\r\n" : "");

	c->out_len = (size_t)n + (head ? 0 : body_len);
	c->out = malloc(c->out_len);
	c->out_off = 0;
	if (!c->out) {
		client_close(c);
		return;
	}
	memcpy(c->out, hdr, (size_t)n);
	if (!head)
		memcpy(c->out + n, body, body_len);
}

/* Answer C's complete request: A says what, the metrics of table SHM. */
static void handle_request(struct client *c, const struct http_answer *a, const char *shm)
{
	char err[512], *body = NULL;
	size_t body_len = 0;
	FILE *f;

	if (!a->metrics) {
		respond(c, a->status, a->reason, "text/plain; charset=utf-8", a->text,
			strlen(a->text), a->head);
		return;
	}
	f = open_memstream(&body, &body_len);
	if (!f) {
		respond(c, 500, "Internal Server Error", "text/plain; charset=utf-8",
			"out of memory\n", 14, false);
		return;
	}
	/* a missing table is an answer too: pepsal_table_up 0 */
	(void)shm_metrics_write(f, shm, err, sizeof(err));
	if (fclose(f) != 0) {
		free(body);
		respond(c, 500, "Internal Server Error", "text/plain; charset=utf-8",
			"out of memory\n", 14, false);
		return;
	}
	respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, body_len,
		a->head);
	free(body);
}

/* Read what C sent; answer once the header is complete. */
static void client_read(struct client *c, const char *shm)
{
	struct http_answer a;
	ssize_t n = recv(c->fd, c->req + c->len, REQUEST_MAX - 1 - c->len, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	if (http_request_read(c->req, c->len, &a))
		handle_request(c, &a, shm);
}

static void client_write(struct client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off == c->out_len) {
		shutdown(c->fd, SHUT_WR);
		client_close(c);
	}
}

/* --listen: ADDR:PORT, [ADDR6]:PORT, or :PORT (every address, as pepsal's
 * --pair-listen takes it). */
static bool listen_endpoint(const char *spec, struct pepsal_endpoint *ep)
{
	char any[16];

	if (spec[0] == ':' && strlen(spec) < 8) {
		snprintf(any, sizeof(any), "[::]%s", spec);
		return pepsal_endpoint_parse(ep, any);
	}
	return pepsal_endpoint_parse(ep, spec);
}

static bool parse_listen(const char *arg, void *dst, char *err, size_t errlen)
{
	struct pepsal_endpoint ep;

	if (!listen_endpoint(arg, &ep) || !ep.port) {
		snprintf(err, errlen, "expected ADDR:PORT or :PORT (127.0.0.1:9752, [::1]:9752, "
			 ":9752 for every address)");
		return false;
	}
	*(const char **)dst = arg;
	return true;
}

static int listen_on(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct pepsal_endpoint ep;
	socklen_t len;
	int fd, one = 1;

	if (!listen_endpoint(spec, &ep)) {
		snprintf(err, errlen, "invalid --listen '%s'", spec);
		return -EINVAL;
	}
	len = pepsal_endpoint_to_sockaddr(&ep, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (spec[0] == ':') { /* [::]: IPv4 too */
		int zero = 0;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, MAX_CLIENTS)) {
		int e = errno;

		snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int serve(const char *shm, const char *listen_spec)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct client *who[MAX_CLIENTS + 1];
	struct sockaddr_storage ss;
	struct pepsal_endpoint ep;
	char err[512], where[PEPSAL_ENDPOINT_STRLEN];
	socklen_t sl = sizeof(ss);
	int lfd;

	lfd = listen_on(listen_spec, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return lfd;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0 &&
	    pepsal_endpoint_from_sockaddr(&ep, (struct sockaddr *)&ss, sl) == 0)
		fprintf(stderr, PROG ": serving the metrics of %s at http://%s/metrics\n",
			shm, pepsal_endpoint_format(&ep, where));
	for (;;) {
		uint64_t now = pepsal_now_ns(), next = now + 60000000000ull;
		int n = 0, free_slot = -1, r;

		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];

			if (c->fd >= 0 && now >= c->deadline)
				client_close(c);
			if (c->fd < 0) {
				free_slot = free_slot < 0 ? i : free_slot;
				continue;
			}
			next = c->deadline < next ? c->deadline : next;
			pfd[n] = (struct pollfd){ c->fd, c->out ? POLLOUT : POLLIN, 0 };
			who[n++] = c;
		}
		/* full: new clients wait in the backlog until a slot is free */
		if (free_slot >= 0) {
			pfd[n] = (struct pollfd){ lfd, POLLIN, 0 };
			who[n++] = NULL;
		}
		r = poll(pfd, (nfds_t)n, (int)((next - now) / 1000000) + 1);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			close(lfd);
			return -errno;
		}
		for (int i = 0; r > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (!who[i]) {
				struct client *c = &clients[free_slot];

				c->fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (c->fd < 0)
					continue; /* EAGAIN, ECONNABORTED, EMFILE: try later */
				c->len = 0;
				c->deadline = pepsal_now_ns() + CLIENT_TIMEOUT_MS * 1000000ull;
			} else if (who[i]->out) {
				client_write(who[i]);
			} else {
				client_read(who[i], shm);
			}
			/* a response is sent at the next POLLOUT */
		}
	}
}

int cmd_serve(int argc, char **argv, struct inspect_common *c)
{
	const char *listen_spec = "127.0.0.1:9752";
	const struct pepsal_opt opts[] = {
		{ "shm", 's', PEPSAL_OPT_CUSTOM, &c->shm, "NAME",
		  "shared-memory table to read (default " PEPSAL_SHM_DEFAULT_NAME ")", 0, 0,
		  inspect_parse_shm },
		{ "listen", 'l', PEPSAL_OPT_CUSTOM, &listen_spec, "ADDR:PORT",
		  "address of the HTTP endpoint (default 127.0.0.1:9752; :PORT: every "
		  "address)", 0, 0, parse_listen },
		{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
	};
	int r = inspect_parse(argc, argv, opts, "[OPTIONS]", c, false);

	if (r)
		return r < 0 ? 0 : r;
	return serve(c->shm, listen_spec) ? 1 : 0;
}
