/*
 * Native baseline of `npm run bench:heap`: the machine's malloc/free (glibc's ptmalloc on
 * Linux) replaying exactly the operations of bench/heap/workload.ts: same xorshift32 PRNG and
 * seed, same draws in the same order. Only the operation loop is timed (CLOCK_MONOTONIC).
 * Usage: heap <W3|mixed> <ops>: one run per process (the caller starts one per run, so every run
 * starts from a fresh malloc). Prints one JSON object, with the allocator's footprint from
 * mallinfo2 (arena + mmapped bytes) when glibc provides it, -1 otherwise.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define SEED 0x9E3779B9u
#define POOL_BYTES (64u << 20)
#define LIVE_TARGET (POOL_BYTES / 2)
#define MAX_LIVE (1u << 21)

static uint32_t x;
static inline uint32_t next(void) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: heap <W3|mixed> <ops>\n");
    return 2;
  }
  int mixed = strcmp(argv[1], "mixed") == 0;
  if (!mixed && strcmp(argv[1], "W3") != 0) return 2;
  uint64_t ops = strtoull(argv[2], NULL, 10);
  void **ptrs = calloc(MAX_LIVE, sizeof *ptrs);
  uint32_t *sizes = calloc(MAX_LIVE, sizeof *sizes);
  if (!ptrs || !sizes) return 1;
  x = SEED;
  uint64_t count = 0, live_bytes = 0, allocs = 0, frees = 0, failures = 0;
  double start = now_ns();
  for (uint64_t op = 0; op < ops; op++) {
    int do_free = live_bytes >= LIVE_TARGET;
    if (!do_free) {
      uint32_t size, low, r = next();
      if (mixed && r % 16 == 0) {
        low = 4096u << (next() % 6);
        size = low + next() % low;
      } else {
        if (mixed) r = next();
        low = 16u << (r % 7);
        size = low + next() % low;
      }
      void *p = malloc(size);
      if (!p) {
        failures++;
        do_free = count > 0;
      } else {
        ptrs[count] = p;
        sizes[count] = size;
        count++;
        live_bytes += size;
        allocs++;
      }
    }
    if (do_free) {
      uint64_t i = next() % count;
      free(ptrs[i]);
      live_bytes -= sizes[i];
      count--;
      ptrs[i] = ptrs[count];
      sizes[i] = sizes[count];
      frees++;
    }
  }
  double ns = now_ns() - start;
  double footprint = -1;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  footprint = (double)(mi.arena + mi.hblkhd);
#endif
  printf("{\"ops\":%llu,\"ns\":%.0f,\"nsPerOp\":%.3f,\"allocs\":%llu,\"frees\":%llu,\"failures\":%llu,"
         "\"liveCount\":%llu,\"liveBytes\":%llu,\"footprint\":%.0f}\n",
         (unsigned long long)ops, ns, ns / (double)ops, (unsigned long long)allocs, (unsigned long long)frees,
         (unsigned long long)failures, (unsigned long long)count, (unsigned long long)live_bytes, footprint);
  for (uint64_t i = 0; i < count; i++) free(ptrs[i]);
  free(ptrs);
  free(sizes);
  return 0;
}
