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
 * The listening address is loopback unless --listen says otherwise.
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

#include "pepsal_endpoint.h"
#include "pepsal_table.h"
#include "shm-cli.h"

#define MAX_CLIENTS 16
#define REQUEST_MAX 4096
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

static void respond_text(struct client *c, int status, const char *reason, const char *msg)
{
	respond(c, status, reason, "text/plain; charset=utf-8", msg, strlen(msg), false);
}

static void handle_request(struct client *c)
{
	char method[16], target[256], version[16];
	char err[512], *body = NULL;
	size_t body_len = 0;
	bool head;
	FILE *f;

	c->req[c->len] = '\0';
	if (sscanf(c->req, "%15[A-Z] %255[^ \r\n] %15[^ \r\n]", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		respond_text(c, 400, "Bad Request", "bad request\n");
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		respond_text(c, 405, "Method Not Allowed", "only GET and HEAD\n");
		return;
	}
	target[strcspn(target, "?")] = '\0';
	if (strcmp(target, "/") == 0) {
		respond_text(c, 200, "OK", "pepsal-shm: the metrics are at /metrics\n");
		return;
	}
	if (strcmp(target, "/metrics") != 0) {
		respond_text(c, 404, "Not Found", "not found: the metrics are at /metrics\n");
		return;
	}
	f = open_memstream(&body, &body_len);
	if (!f) {
		respond_text(c, 500, "Internal Server Error", "out of memory\n");
		return;
	}
	/* a missing table is an answer too: pepsal_table_up 0 */
	(void)shm_metrics_write(f, opt.shm, err, sizeof(err));
	if (fclose(f) != 0) {
		free(body);
		respond_text(c, 500, "Internal Server Error", "out of memory\n");
		return;
	}
	respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, body_len, head);
	free(body);
}

/* Read what C sent; answer once the header is complete. */
static void client_read(struct client *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, REQUEST_MAX - 1 - c->len, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		handle_request(c);
	else if (c->len >= REQUEST_MAX - 1)
		respond_text(c, 431, "Request Header Fields Too Large", "request too large\n");
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

bool shm_parse_listen(const char *arg, void *dst, char *err, size_t errlen)
{
	struct pepsal_endpoint ep;

	if (!pepsal_endpoint_parse(&ep, arg)) {
		snprintf(err, errlen, "expected ADDR:PORT (127.0.0.1:9752, [::1]:9752)");
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

	if (!pepsal_endpoint_parse(&ep, spec)) {
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
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, MAX_CLIENTS)) {
		int e = errno;

		snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int shm_cmd_serve(void)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct client *who[MAX_CLIENTS + 1];
	struct sockaddr_storage ss;
	struct pepsal_endpoint ep;
	char err[512], where[PEPSAL_ENDPOINT_STRLEN];
	socklen_t sl = sizeof(ss);
	int lfd;

	lfd = listen_on(opt.listen, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "pepsal-shm: %s\n", err);
		return lfd;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0 &&
	    pepsal_endpoint_from_sockaddr(&ep, (struct sockaddr *)&ss, sl) == 0)
		fprintf(stderr, "pepsal-shm: serving the metrics of %s at http://%s/metrics\n",
			opt.shm, pepsal_endpoint_format(&ep, where));
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
			fprintf(stderr, "pepsal-shm: poll: %s\n", strerror(errno));
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
				client_read(who[i]);
			}
			/* a response is sent at the next POLLOUT */
		}
	}
}
