/* mincore over a whole mapping and count the resident pages, in C.
 * usage: mincore FILE SIZE REPEATS -> prints milliseconds per call, resident */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec a, b;
  size_t size, pages, i, resident = 0;
  long r, repeats;
  int fd;
  void *p;
  if (argc != 4) return 2;
  fd = open(argv[1], O_RDONLY);
  size = strtoul(argv[2], NULL, 10);
  repeats = strtol(argv[3], NULL, 10);
  if (fd < 0) return 1;
  p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 1;
  pages = (size + (size_t)sysconf(_SC_PAGESIZE) - 1) / (size_t)sysconf(_SC_PAGESIZE);
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (r = 0; r < repeats; r++) {
    /* A fresh vector each call, as the addon allocates one per call. */
    unsigned char *vec = malloc(pages);
    if (vec == NULL || mincore(p, size, vec) != 0) return 1;
    for (resident = 0, i = 0; i < pages; i++) resident += vec[i] & 1;
    free(vec);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.3f %zu\n", ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / repeats, resident);
  return 0;
}
