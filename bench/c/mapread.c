/* The physical limit for map + read one byte (+ unmap): the same loop in C.
 * usage: mapread FILE SIZE ITERATIONS [keep] -> prints nanoseconds per
 * operation. With "keep" every mapping stays until the loop ends (bench
 * scenario 2), unmapped after the clock stops. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec a, b;
  size_t size;
  long i, n, sum = 0;
  int fd, keep;
  void **kept = NULL;
  if (argc != 4 && argc != 5) return 2;
  fd = open(argv[1], O_RDONLY);
  size = strtoul(argv[2], NULL, 10);
  n = strtol(argv[3], NULL, 10);
  keep = argc == 5 && strcmp(argv[4], "keep") == 0;
  if (fd < 0 || n <= 0) return 1;
  if (keep && (kept = calloc((size_t)n, sizeof *kept)) == NULL) return 1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (i = 0; i < n; i++) {
    volatile unsigned char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return 1;
    sum += p[0];
    if (keep) kept[i] = (void *)p;
    else munmap((void *)p, size);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (keep)
    for (i = 0; i < n; i++) munmap(kept[i], size);
  printf("%.1f %ld\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n, sum);
  free(kept);
  return 0;
}
