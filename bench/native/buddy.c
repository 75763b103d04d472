/*
 * Native baseline for `npm run bench`: a textbook binary buddy page allocator in C
 * (per-page `struct page` metadata, intrusive doubly-linked LIFO free lists per order,
 * `free_area[order]` heads, page-index based), driven by the same workloads and the same
 * xorshift32 PRNG as bench/workloads.ts, so it replays exactly the same operations.
 *
 * Usage: buddy <W1|W1-85|W2> <ops> <runs>
 * Prints one JSON object per run on stdout. Only the op loop is timed (CLOCK_MONOTONIC).
 * Built with -DSELF_CHECK it also verifies every block handed out (alignment, bounds, no
 * overlap), walks the free lists for invariants, and drains everything after each run to
 * check that the whole pool coalesces back into one free block.
 * Built with -DDRIVER_ONLY the workloads run against a stub that only counts pages (see
 * stub_alloc), so the time left is the driver's own: subtracting it from the real build's
 * gives the allocator's share of an operation.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_SHIFT 12
#define POOL_BYTES (1ull << 30)
#define MAX_ORDER 20
#define NIL UINT32_MAX
#define PG_BUDDY 1u /* head page of a block that sits on a free list */
#define SEED 0x9E3779B9u

struct page {
  uint32_t next, prev; /* free-list links (page indices), NIL terminated */
  uint8_t order;       /* order of the block this page heads */
  uint8_t flags;       /* PG_BUDDY while free */
};

struct free_area {
  uint32_t head;
  uint32_t nr_free;
};

static struct page *pages;
static uint32_t npages;
static struct free_area free_area[MAX_ORDER + 1];

static inline void list_push(uint32_t pfn, unsigned order) {
  struct page *p = &pages[pfn];
  uint32_t head = free_area[order].head;
  p->prev = NIL;
  p->next = head;
  if (head != NIL) pages[head].prev = pfn;
  free_area[order].head = pfn;
  free_area[order].nr_free++;
  p->order = (uint8_t)order;
  p->flags = PG_BUDDY;
}

static inline void list_del(uint32_t pfn, unsigned order) {
  struct page *p = &pages[pfn];
  if (p->prev != NIL) pages[p->prev].next = p->next;
  else free_area[order].head = p->next;
  if (p->next != NIL) pages[p->next].prev = p->prev;
  free_area[order].nr_free--;
  p->flags = 0;
}

static void buddy_init(uint32_t n) {
  free(pages);
  pages = calloc(n, sizeof *pages);
  if (!pages) { perror("calloc"); exit(1); }
  npages = n;
  for (unsigned o = 0; o <= MAX_ORDER; o++) free_area[o] = (struct free_area){NIL, 0};
  for (uint32_t pfn = 0; pfn < n;) { /* largest aligned blocks that fit */
    unsigned o = MAX_ORDER;
    while (o > 0 && ((pfn & ((1u << o) - 1)) || (uint64_t)pfn + (1u << o) > n)) o--;
    list_push(pfn, o);
    pfn += 1u << o;
  }
}

static inline uint32_t buddy_alloc(unsigned order) {
  for (unsigned o = order; o <= MAX_ORDER; o++) {
    uint32_t pfn = free_area[o].head;
    if (pfn == NIL) continue;
    list_del(pfn, o);
    while (o > order) { /* split: the upper half goes back on the next list down */
      o--;
      list_push(pfn + (1u << o), o);
    }
    pages[pfn].order = (uint8_t)order;
    return pfn;
  }
  return NIL;
}

static inline void buddy_free(uint32_t pfn) {
  unsigned order = pages[pfn].order;
  while (order < MAX_ORDER) {
    uint32_t buddy = pfn ^ (1u << order);
    if (buddy >= npages) break;
    struct page *b = &pages[buddy];
    if (!(b->flags & PG_BUDDY) || b->order != order) break;
    list_del(buddy, order);
    pfn &= ~(1u << order);
    order++;
  }
  list_push(pfn, order);
}

#ifdef DRIVER_ONLY
/* No allocator: page numbers from a rotating cursor and a count of pages handed out, so the
 * same operations replay (W2's fill still ends when the pool is full) while no metadata is
 * touched. bench/peers/driver.ts is the same stub in JS. */
static uint32_t stub_used, stub_cursor;
static inline uint32_t stub_alloc(unsigned order) {
  uint32_t size = 1u << order;
  if (stub_used + size > npages) return NIL;
  stub_used += size;
  uint32_t pfn = stub_cursor;
  stub_cursor = (stub_cursor + size) & (npages - 1);
  return pfn;
}
static inline void stub_free(unsigned order) { stub_used -= 1u << order; }
#define ALLOC_BLOCK(k) stub_alloc(k)
#define FREE_BLOCK(pfn, k) ((void)(pfn), stub_free(k))
#define METADATA_BYTES 0
#else
#define ALLOC_BLOCK(k) buddy_alloc(k)
#define FREE_BLOCK(pfn, k) buddy_free(pfn)
#define METADATA_BYTES sizeof(struct page)
#endif

static uint32_t rng;
static inline uint32_t next_u32(void) {
  uint32_t x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return rng = x;
}
static inline unsigned draw_order(void) { return (unsigned)__builtin_ctz(next_u32() | (1u << 10)); }

static uint32_t *live_pfn;
static uint8_t *live_ord;

struct result {
  uint64_t ops, ns, failures, allocs, frees, live_pages, live_count;
};

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#ifdef SELF_CHECK
static uint8_t *owned; /* 1 per page that belongs to a live block */
static void die(const char *what, uint64_t v) {
  fprintf(stderr, "self-check failed: %s (%llu)\n", what, (unsigned long long)v);
  exit(2);
}
static void on_alloc(uint32_t pfn, unsigned k) {
  if (pfn & ((1u << k) - 1)) die("misaligned block", pfn);
  if ((uint64_t)pfn + (1u << k) > npages) die("block out of range", pfn);
  for (uint32_t i = 0; i < (1u << k); i++) {
    if (owned[pfn + i] || (pages[pfn + i].flags & PG_BUDDY)) die("overlapping block", pfn + i);
    owned[pfn + i] = 1;
  }
}
static void on_free(uint32_t pfn, unsigned k) {
  for (uint32_t i = 0; i < (1u << k); i++) owned[pfn + i] = 0;
}
/* Walks every free list; returns the number of free pages. */
static uint64_t check_lists(void) {
  uint64_t free_pages = 0;
  for (unsigned o = 0; o <= MAX_ORDER; o++) {
    uint32_t n = 0, prev = NIL;
    for (uint32_t pfn = free_area[o].head; pfn != NIL; prev = pfn, pfn = pages[pfn].next) {
      struct page *p = &pages[pfn];
      if (p->prev != prev) die("broken prev link", pfn);
      if (!(p->flags & PG_BUDDY) || p->order != o) die("free block flags/order", pfn);
      if (pfn & ((1u << o) - 1)) die("misaligned free block", pfn);
      uint32_t buddy = pfn ^ (1u << o);
      if (o < MAX_ORDER && buddy < npages && (pages[buddy].flags & PG_BUDDY) && pages[buddy].order == o)
        die("uncoalesced buddies", pfn);
      for (uint32_t i = 0; i < (1u << o); i++)
        if (owned[pfn + i]) die("free block overlaps a live one", pfn + i);
      if (++n > npages) die("cycle in free list", o);
    }
    if (n != free_area[o].nr_free) die("nr_free mismatch", o);
    free_pages += (uint64_t)n << o;
  }
  return free_pages;
}
#define ON_ALLOC(p, k) on_alloc(p, k)
#define ON_FREE(p, k) on_free(p, k)
#define PERIODIC(i) \
  if (((i) & 0x3ffff) == 0) check_lists()
#else
#define ON_ALLOC(p, k) ((void)0)
#define ON_FREE(p, k) ((void)0)
#define PERIODIC(i) ((void)0)
#endif

/* W1 / W1-85: allocate while below target pages, else free a random live block. */
static struct result run_w1(uint64_t ops, uint64_t target) {
  struct result r = {0};
  uint64_t live_pages = 0;
  uint32_t n = 0;
  uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    PERIODIC(i);
    if (live_pages < target) {
      unsigned k = draw_order();
      uint32_t pfn = ALLOC_BLOCK(k);
      if (pfn == NIL) { r.failures++; continue; }
      ON_ALLOC(pfn, k);
      live_pfn[n] = pfn;
      live_ord[n] = (uint8_t)k;
      n++;
      live_pages += 1u << k;
      r.allocs++;
    } else {
      uint32_t idx = (next_u32() >> 1) % n;
      uint32_t pfn = live_pfn[idx];
      unsigned k = live_ord[idx];
      ON_FREE(pfn, k);
      FREE_BLOCK(pfn, k);
      live_pages -= 1u << k;
      n--;
      live_pfn[idx] = live_pfn[n];
      live_ord[idx] = live_ord[n];
      r.frees++;
    }
  }
  r.ns = now_ns() - t0;
  r.ops = ops;
  r.live_pages = live_pages;
  r.live_count = n;
  return r;
}

/* W2: fill with order-0 blocks until null, shuffle (untimed), free all; repeat. */
static struct result run_w2(uint64_t ops) {
  struct result r = {0};
  while (r.ops < ops) {
    uint32_t n = 0;
    uint64_t t0 = now_ns();
    for (;;) {
      r.ops++;
      uint32_t pfn = ALLOC_BLOCK(0);
      if (pfn == NIL) break;
      ON_ALLOC(pfn, 0);
      live_pfn[n++] = pfn;
      r.allocs++;
    }
    r.ns += now_ns() - t0;
    for (uint32_t i = n; i > 1; i--) { /* Fisher-Yates: j = (next() >> 1) % (k + 1), k = i - 1 */
      uint32_t j = (next_u32() >> 1) % i;
      uint32_t t = live_pfn[i - 1];
      live_pfn[i - 1] = live_pfn[j];
      live_pfn[j] = t;
    }
#ifdef SELF_CHECK
    if (check_lists() != 0) die("pool not full after fill", n);
#endif
    t0 = now_ns();
    for (uint32_t i = 0; i < n; i++) {
      ON_FREE(live_pfn[i], 0);
      FREE_BLOCK(live_pfn[i], 0);
    }
    r.ns += now_ns() - t0;
    r.ops += n;
    r.frees += n;
  }
  return r;
}

static double fragmentation(void) {
  uint64_t free_pages = 0, largest = 0;
  for (unsigned o = 0; o <= MAX_ORDER; o++) {
    free_pages += (uint64_t)free_area[o].nr_free << o;
    if (free_area[o].nr_free) largest = 1ull << o;
  }
  return free_pages ? 1.0 - (double)largest / (double)free_pages : 0.0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <W1|W1-85|W2> <ops> <runs>\n", argv[0]);
    return 1;
  }
  const char *w = argv[1];
  uint64_t ops = strtoull(argv[2], NULL, 10);
  int runs = atoi(argv[3]);
  uint32_t n = (uint32_t)(POOL_BYTES >> PAGE_SHIFT);
  live_pfn = malloc(n * sizeof *live_pfn);
  live_ord = malloc(n);
#ifdef SELF_CHECK
  owned = calloc(n, 1);
#endif
  for (int run = 0; run < runs; run++) {
    buddy_init(n);
#ifdef DRIVER_ONLY
    stub_used = stub_cursor = 0;
#endif
    rng = SEED;
    struct result r;
    if (!strcmp(w, "W1")) r = run_w1(ops, (uint64_t)n * 50 / 100);
    else if (!strcmp(w, "W1-85")) r = run_w1(ops, (uint64_t)n * 85 / 100);
    else if (!strcmp(w, "W2")) r = run_w2(ops);
    else { fprintf(stderr, "unknown workload %s\n", w); return 1; }
    double frag = fragmentation();
#ifdef SELF_CHECK
    if (check_lists() != n - r.live_pages) die("free pages + live pages != pool", r.live_pages);
    for (uint32_t i = 0; i < r.live_count; i++) {
      on_free(live_pfn[i], live_ord[i]);
      buddy_free(live_pfn[i]);
    }
    if (check_lists() != n || free_area[__builtin_ctz(n)].nr_free != 1) die("pool did not coalesce after drain", 0);
#endif
    printf("{\"workload\":\"%s\",\"run\":%d,\"ops\":%llu,\"ns\":%llu,\"nsPerOp\":%.3f,\"failures\":%llu,"
           "\"allocs\":%llu,\"frees\":%llu,\"livePages\":%llu,\"fragmentation\":%.6f,"
           "\"metadataBytesPerPage\":%zu,\"selfCheck\":%s}\n",
           w, run, (unsigned long long)r.ops, (unsigned long long)r.ns, (double)r.ns / (double)r.ops,
           (unsigned long long)r.failures, (unsigned long long)r.allocs, (unsigned long long)r.frees,
           (unsigned long long)r.live_pages, frag, (size_t)METADATA_BYTES,
#ifdef SELF_CHECK
           "true"
#else
           "false"
#endif
    );
    fflush(stdout);
  }
  return 0;
}
