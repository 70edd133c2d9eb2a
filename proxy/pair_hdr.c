// SPDX-License-Identifier: GPL-2.0-or-later
/* The pair header's codec (pair_hdr.h has the layout) and the key file. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pair_hdr.h"

#define OFF_FAMILY 4
#define OFF_TOS 5
#define OFF_KIND 6
#define OFF_RESERVED 7
#define OFF_CLIENT 8
#define OFF_DST 26
#define OFF_NONCE 44
#define OFF_TIME 60
#define OFF_MAC 68

static const uint8_t magic[3] = { 'P', 'E', 'P' };

static void mac_of(const struct pair_key *key, const uint8_t *buf, uint8_t mac[PAIR_MAC_LEN])
{
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, key->bytes, key->len);
	gsize len = PAIR_MAC_LEN;

	g_hmac_update(h, buf, OFF_MAC);
	g_hmac_get_digest(h, mac, &len);
	g_hmac_unref(h);
}

static void put_endpoint(uint8_t *p, const struct pepsal_endpoint *ep)
{
	memcpy(p, ep->addr, 16);
	p[16] = (uint8_t)(ep->port >> 8);
	p[17] = (uint8_t)ep->port;
}

static void get_endpoint(const uint8_t *p, int family, struct pepsal_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = (uint8_t)family;
	memcpy(ep->addr, p, family == AF_INET ? 4 : 16);
	ep->port = (uint16_t)(p[16] << 8 | p[17]);
}

void pair_hdr_encode(const struct pair_hdr *h, const struct pair_key *key,
		     uint8_t out[PAIR_HDR_LEN])
{
	memset(out, 0, PAIR_HDR_LEN);
	memcpy(out, magic, sizeof(magic));
	out[3] = PAIR_HDR_VERSION;
	out[OFF_FAMILY] = h->dst.family == AF_INET6 ? 6 : 4;
	out[OFF_TOS] = h->tos < 0 ? 0xff : (uint8_t)h->tos;
	out[OFF_KIND] = (uint8_t)h->kind;
	put_endpoint(out + OFF_CLIENT, &h->client);
	put_endpoint(out + OFF_DST, &h->dst);
	memcpy(out + OFF_NONCE, h->nonce, PAIR_NONCE_LEN);
	for (int i = 0; i < 8; i++)
		out[OFF_TIME + i] = (uint8_t)(h->time_s >> (56 - 8 * i));
	mac_of(key, out, out + OFF_MAC);
}

/* Compare in time independent of where they differ. */
static bool mac_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (int i = 0; i < PAIR_MAC_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static bool addr_is_v4(const uint8_t *p)
{
	for (int i = 4; i < 16; i++)
		if (p[i])
			return false;
	return true;
}

enum pair_hdr_status pair_hdr_decode(const uint8_t *buf, size_t len,
				     const struct pair_key *key, uint64_t now_s,
				     uint64_t window_s, struct pair_hdr *out)
{
	uint8_t mac[PAIR_MAC_LEN];
	uint64_t t = 0;
	int family;

	if (len < PAIR_HDR_LEN)
		return PAIR_HDR_SHORT;
	if (memcmp(buf, magic, sizeof(magic)))
		return PAIR_HDR_MAGIC;
	if (buf[3] != PAIR_HDR_VERSION)
		return PAIR_HDR_VERSION_BAD;
	mac_of(key, buf, mac);
	if (!mac_equal(mac, buf + OFF_MAC))
		return PAIR_HDR_AUTH;
	/* authentic from here: what is wrong now is a bug of the terminal */
	family = buf[OFF_FAMILY] == 4 ? AF_INET : buf[OFF_FAMILY] == 6 ? AF_INET6 : 0;
	if (!family || buf[OFF_KIND] > PAIR_KIND_CONFIRM || buf[OFF_RESERVED])
		return PAIR_HDR_FIELD;
	out->kind = buf[OFF_KIND];
	if (family == AF_INET && (!addr_is_v4(buf + OFF_CLIENT) || !addr_is_v4(buf + OFF_DST)))
		return PAIR_HDR_FIELD;
	get_endpoint(buf + OFF_CLIENT, family, &out->client);
	get_endpoint(buf + OFF_DST, family, &out->dst);
	if (!out->dst.port && out->kind != PAIR_KIND_PROBE)
		return PAIR_HDR_FIELD;
	for (int i = 0; i < 8; i++)
		t = t << 8 | buf[OFF_TIME + i];
	if (t < now_s ? now_s - t > window_s : t - now_s > window_s)
		return PAIR_HDR_TIME;
	out->tos = buf[OFF_TOS] == 0xff ? PAIR_TOS_UNKNOWN : buf[OFF_TOS];
	memcpy(out->nonce, buf + OFF_NONCE, PAIR_NONCE_LEN);
	out->time_s = t;
	return PAIR_HDR_OK;
}

const char *pair_hdr_strerror(enum pair_hdr_status status)
{
	switch (status) {
	case PAIR_HDR_OK: return "valid";
	case PAIR_HDR_SHORT: return "truncated header";
	case PAIR_HDR_MAGIC: return "not a pair header";
	case PAIR_HDR_VERSION_BAD: return "unknown header version";
	case PAIR_HDR_AUTH: return "wrong key or altered header";
	case PAIR_HDR_FIELD: return "malformed header";
	case PAIR_HDR_TIME: return "header time outside the window (clocks apart?)";
	}
	return "?";
}

int pair_key_load(const char *path, struct pair_key *key, char *err, size_t errlen)
{
	uint8_t buf[PAIR_KEY_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the key file %s: %s", path, strerror(errno));
		return rc;
	}
	/* a pre-shared key others can read is no secret, one they can write
	 * no key: refused, as ssh refuses such a private key */
	if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXO | S_IWGRP))) {
		snprintf(err, errlen, "the key file %s is open to other users (mode %04o): "
			 "chmod 600 %s", path, (unsigned int)(st.st_mode & 07777), path);
		close(fd);
		return -EACCES;
	}
	n = read(fd, buf, sizeof(buf));
	rc = -errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the key file %s: %s", path, strerror(-rc));
		return rc;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n < PAIR_KEY_MIN || n > PAIR_KEY_MAX) {
		snprintf(err, errlen, "the key file %s must hold %d to %d bytes (e.g. "
			 "'head -c 32 /dev/urandom | base64 > FILE')", path, PAIR_KEY_MIN,
			 PAIR_KEY_MAX);
		return -EINVAL;
	}
	memcpy(key->bytes, buf, (size_t)n);
	key->len = (size_t)n;
	memset(buf, 0, sizeof(buf));
	return 0;
}
