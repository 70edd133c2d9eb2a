// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The connection table's segment: geometry, creation, attachment with
 * validation, header information and settings. The lock and its repair are
 * in lock.c, the entries in entries.c (built from slots.c), heartbeats in
 * roles.c, named counters in seg-counters.c.
 *
 * The concurrency design is described at the top of lock.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

void pepsal_shm_geometry(uint32_t capacity, struct pepsal_shm_geometry *g)
{
	uint32_t nb = 1;

	while (nb < capacity)
		nb <<= 1;
	g->capacity = capacity;
	g->nbuckets = nb;
	g->bitmap_words = (capacity + 63) / 64;
	g->bitmap_offset = align_up(sizeof(struct pepsal_shm_header), PEPSAL_SHM_ALIGN);
	g->client_index_offset = align_up(g->bitmap_offset + 8ull * g->bitmap_words,
					  PEPSAL_SHM_ALIGN);
	g->flow_index_offset = align_up(g->client_index_offset + 4ull * nb, PEPSAL_SHM_ALIGN);
	g->addr_slots = 2 * nb;
	g->addr_index_offset = align_up(g->flow_index_offset + 4ull * nb, PEPSAL_SHM_ALIGN);
	g->entries_offset = align_up(g->addr_index_offset +
				     sizeof(struct pepsal_shm_addr) * (uint64_t)g->addr_slots,
				     PEPSAL_SHM_ALIGN);
	g->total_size = g->entries_offset +
			(uint64_t)capacity * sizeof(struct pepsal_shm_entry);
}

bool pepsal_shm_name_valid(const char *name, char *err, size_t errlen)
{
	const char *base = name[0] == '/' ? name + 1 : name;

	if (!*base || strchr(base, '/') || strlen(base) > NAME_MAX - 1 ||
	    strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		snprintf(err, errlen, "invalid shm name '%s': expected /NAME, one path "
			 "component of at most %d characters", name, NAME_MAX - 1);
		return false;
	}
	return true;
}

static void set_name(struct pepsal_table *t, const char *name)
{
	snprintf(t->name, sizeof(t->name), "%s%s", name[0] == '/' ? "" : "/", name);
}

static void map_regions(struct pepsal_table *t, void *base)
{
	uint8_t *p = base;

	t->hdr = base;
	t->bitmap = (uint64_t *)(p + t->geo.bitmap_offset);
	t->client_index = (uint32_t *)(p + t->geo.client_index_offset);
	t->flow_index = (uint32_t *)(p + t->geo.flow_index_offset);
	t->addrs = (struct pepsal_shm_addr *)(p + t->geo.addr_index_offset);
	t->entries = (struct pepsal_shm_entry *)(p + t->geo.entries_offset);
	t->map_size = t->geo.total_size;
}

/* Map the whole validated segment and point the handle's regions into it. */
static int map_segment(struct pepsal_table *t, int fd, int prot, char *err, size_t errlen)
{
	void *base = mmap(NULL, t->geo.total_size, prot, MAP_SHARED, fd, 0);

	if (base == MAP_FAILED) {
		int r = -errno;

		snprintf(err, errlen, "cannot map shm segment %s: %s", t->name, strerror(errno));
		return r;
	}
	map_regions(t, base);
	return 0;
}

static int init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int r;

	pthread_mutexattr_init(&a);
	r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!r)
		r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (!r)
		r = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return -r;
}

static void init_header(struct pepsal_table *t)
{
	struct pepsal_shm_header *h = t->hdr;
	struct timespec ts;

	h->version = PEPSAL_TABLE_VERSION;
	h->header_size = sizeof(*h);
	h->entry_size = sizeof(struct pepsal_shm_entry);
	h->capacity = t->geo.capacity;
	h->nbuckets = t->geo.nbuckets;
	h->bitmap_words = t->geo.bitmap_words;
	h->bitmap_offset = t->geo.bitmap_offset;
	h->client_index_offset = t->geo.client_index_offset;
	h->flow_index_offset = t->geo.flow_index_offset;
	h->addr_index_offset = t->geo.addr_index_offset;
	h->entries_offset = t->geo.entries_offset;
	h->total_size = t->geo.total_size;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->created_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (getrandom(h->hash_seed, sizeof(h->hash_seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(h->hash_seed)) {
		/* no entropy yet at early boot: time and pid still vary */
		h->hash_seed[0] = h->created_realtime_ns ^ 0x9e3779b97f4a7c15ull;
		h->hash_seed[1] = pepsal_now_ns() ^ (uint64_t)getpid() << 32;
	}
	atomic_store(&h->pending_lifetime_ns, 120ull * 1000000000ull);
	atomic_store(&h->room, PEPSAL_ROOM_UNPUBLISHED);
}

int pepsal_table_create(const char *name, uint32_t capacity, mode_t mode,
			struct pepsal_table **out, char *err, size_t errlen)
{
	struct pepsal_table *t;
	int fd, r = 0;

	if (!pepsal_shm_name_valid(name, err, errlen))
		return -EINVAL;
	if (!capacity)
		capacity = PEPSAL_TABLE_DEFAULT_CAPACITY;
	if (capacity < PEPSAL_TABLE_MIN_CAPACITY || capacity > PEPSAL_TABLE_MAX_CAPACITY) {
		snprintf(err, errlen, "table capacity %u out of range (%u to %u)", capacity,
			 PEPSAL_TABLE_MIN_CAPACITY, PEPSAL_TABLE_MAX_CAPACITY);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	set_name(t, name);
	pepsal_shm_geometry(capacity, &t->geo);

	fd = shm_open(t->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode ? mode : 0600);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create shm segment %s: %s", t->name, strerror(errno));
		free(t);
		return r;
	}
	/* umask must not weaken or widen what was asked for */
	if (fchmod(fd, mode ? mode : 0600) < 0 ||
	    (r = posix_fallocate(fd, 0, (off_t)t->geo.total_size)) != 0) {
		r = r ? r : errno;
		snprintf(err, errlen, "cannot size shm segment %s to %" PRIu64 " bytes: %s",
			 t->name, t->geo.total_size, strerror(r));
		r = -r;
		goto fail;
	}
	r = map_segment(t, fd, PROT_READ | PROT_WRITE, err, errlen);
	if (r)
		goto fail;
	close(fd);
	init_header(t);
	r = init_lock(&t->hdr->lock);
	if (r) {
		snprintf(err, errlen, "cannot initialise the lock of %s: %s", t->name,
			 strerror(-r));
		munmap(t->hdr, t->map_size);
		shm_unlink(t->name);
		free(t);
		return r;
	}
	/* the magic goes last: attachers never see a half-built header as valid */
	atomic_thread_fence(memory_order_release);
	memcpy(t->hdr->magic, PEPSAL_TABLE_MAGIC, sizeof(t->hdr->magic));
	*out = t;
	return 0;
fail:
	close(fd);
	shm_unlink(t->name);
	free(t);
	return r;
}

/* Check a header against what this build expects; fill ERR and return
 * -EPROTO (foreign or other version) or -EUCLEAN (inconsistent). */
static int validate_header(const struct pepsal_shm_header *h, const char *name,
			   uint64_t size, struct pepsal_shm_geometry *g,
			   char *err, size_t errlen)
{
	if (memcmp(h->magic, PEPSAL_TABLE_MAGIC, sizeof(h->magic)) != 0) {
		snprintf(err, errlen, "shm segment %s is not a pepsal connection table "
			 "(bad magic; empty, foreign or not yet initialised)", name);
		return -EPROTO;
	}
	if (h->version != PEPSAL_TABLE_VERSION) {
		snprintf(err, errlen, "shm segment %s has table layout version %u; this "
			 "program understands version %u", name, h->version,
			 PEPSAL_TABLE_VERSION);
		return -EPROTO;
	}
	if (h->header_size != sizeof(struct pepsal_shm_header) ||
	    h->entry_size != sizeof(struct pepsal_shm_entry)) {
		snprintf(err, errlen, "shm segment %s has header size %u and entry size %u; "
			 "expected %zu and %zu", name, h->header_size, h->entry_size,
			 sizeof(struct pepsal_shm_header), sizeof(struct pepsal_shm_entry));
		return -EUCLEAN;
	}
	if (h->capacity < PEPSAL_TABLE_MIN_CAPACITY || h->capacity > PEPSAL_TABLE_MAX_CAPACITY) {
		snprintf(err, errlen, "shm segment %s claims a capacity of %u entries, "
			 "outside %u to %u", name, h->capacity, PEPSAL_TABLE_MIN_CAPACITY,
			 PEPSAL_TABLE_MAX_CAPACITY);
		return -EUCLEAN;
	}
	pepsal_shm_geometry(h->capacity, g);
	if (h->nbuckets != g->nbuckets || h->bitmap_words != g->bitmap_words ||
	    h->bitmap_offset != g->bitmap_offset ||
	    h->client_index_offset != g->client_index_offset ||
	    h->flow_index_offset != g->flow_index_offset ||
	    h->addr_index_offset != g->addr_index_offset ||
	    h->entries_offset != g->entries_offset || h->total_size != g->total_size) {
		snprintf(err, errlen, "shm segment %s has a corrupt header: its offsets do "
			 "not match a table of %u entries", name, h->capacity);
		return -EUCLEAN;
	}
	if (size != g->total_size) {
		snprintf(err, errlen, "shm segment %s is %" PRIu64 " bytes but a table of %u "
			 "entries needs exactly %" PRIu64 " (truncated or resized)", name, size,
			 h->capacity, g->total_size);
		return -EUCLEAN;
	}
	return 0;
}

int pepsal_table_attach(const char *name, bool readonly, struct pepsal_table **out,
			char *err, size_t errlen)
{
	struct pepsal_shm_header hdr;
	struct pepsal_table *t;
	struct stat st;
	int fd, r;

	if (!pepsal_shm_name_valid(name, err, errlen))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	set_name(t, name);
	t->readonly = readonly;

	fd = shm_open(t->name, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		if (errno == ENOENT)
			snprintf(err, errlen, "shm segment %s does not exist (is pepsal "
				 "running? --shm names another table)", t->name);
		else
			snprintf(err, errlen, "cannot open shm segment %s: %s", t->name,
				 strerror(errno));
		free(t);
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot stat shm segment %s: %s", t->name, strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size < sizeof(hdr)) {
		snprintf(err, errlen, "shm segment %s is truncated: %lld bytes, a pepsal "
			 "table header alone is %zu", t->name, (long long)st.st_size, sizeof(hdr));
		r = -EUCLEAN;
		goto fail;
	}
	/* validate a private copy first: never map more than the header
	 * promises, never trust it before it is checked */
	if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		r = -EIO;
		snprintf(err, errlen, "cannot read the header of shm segment %s", t->name);
		goto fail;
	}
	r = validate_header(&hdr, t->name, (uint64_t)st.st_size, &t->geo, err, errlen);
	if (r)
		goto fail;
	r = map_segment(t, fd, readonly ? PROT_READ : PROT_READ | PROT_WRITE, err, errlen);
	if (r)
		goto fail;
	close(fd);
	*out = t;
	return 0;
fail:
	close(fd);
	free(t);
	return r;
}

void pepsal_table_detach(struct pepsal_table *t)
{
	if (!t)
		return;
	munmap(t->hdr, t->map_size);
	free(t);
}

int pepsal_table_unlink(const char *name)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s%s", name[0] == '/' ? "" : "/", name);
	return shm_unlink(buf) < 0 ? -errno : 0;
}

const char *pepsal_table_name(const struct pepsal_table *t)
{
	return t->name;
}

uint32_t pepsal_table_capacity(const struct pepsal_table *t)
{
	return t->geo.capacity;
}

void pepsal_table_set_pending_lifetime(struct pepsal_table *t, uint64_t ns)
{
	atomic_store(&t->hdr->pending_lifetime_ns, ns);
}

void pepsal_table_get_info(const struct pepsal_table *t, struct pepsal_table_info *info)
{
	struct pepsal_shm_header *h = t->hdr;

	memset(info, 0, sizeof(*info));
	info->version = h->version;
	info->capacity = t->geo.capacity;
	info->entry_size = h->entry_size;
	info->used = atomic_load(&h->used);
	info->pending = atomic_load(&h->pending);
	info->room = atomic_load(&h->room);
	info->segment_size = t->geo.total_size;
	info->created_realtime_ns = h->created_realtime_ns;
	info->pending_lifetime_ns = atomic_load(&h->pending_lifetime_ns);
	info->inserts = atomic_load(&h->inserts);
	info->refreshes = atomic_load(&h->refreshes);
	info->lookups = atomic_load(&h->lookups);
	info->hits = atomic_load(&h->hits);
	info->misses = atomic_load(&h->misses);
	info->evictions = atomic_load(&h->evictions);
	info->table_full = atomic_load(&h->table_full);
	info->removes = atomic_load(&h->removes);
	info->gc_removed = atomic_load(&h->gc_removed);
	info->recoveries = atomic_load(&h->recoveries);
	info->deferred = atomic_load(&h->deferred);
	info->address_limited = atomic_load(&h->address_limited);
	for (int r = 0; r < PEPSAL_ROLE_COUNT; r++) {
		info->heartbeat[r].pid = atomic_load(&h->heartbeat[r].pid);
		info->heartbeat[r].beat_ns = atomic_load(&h->heartbeat[r].beat_ns);
	}
}

/* ---- the proxy's room ---------------------------------------------------- */

void pepsal_table_set_room(struct pepsal_table *t, uint32_t room)
{
	if (t->readonly)
		return;
	/* base first: a queuer that sees the new room sees its base too */
	atomic_store(&t->hdr->room_base, atomic_load(&t->hdr->pending));
	atomic_store(&t->hdr->room, room);
}

uint32_t pepsal_table_room(const struct pepsal_table *t)
{
	return atomic_load(&t->hdr->room);
}

bool pepsal_table_room_ok(const struct pepsal_table *t)
{
	uint32_t room = atomic_load(&t->hdr->room), base, pending;

	if (room == PEPSAL_ROOM_UNPUBLISHED)
		return true;
	base = atomic_load(&t->hdr->room_base);
	pending = atomic_load(&t->hdr->pending);
	/* entries claimed or collected since the publication do not count:
	 * the proxy republishes when it takes a connection */
	return pending <= base ? room > 0 : pending - base < room;
}
