/* The physical limit for map + read one byte + unmap: the same loop in C.
 * usage: mapread FILE SIZE ITERATIONS -> prints nanoseconds per operation */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec a, b;
  size_t size;
  long i, n, sum = 0;
  int fd;
  if (argc != 4) return 2;
  fd = open(argv[1], O_RDONLY);
  size = strtoul(argv[2], NULL, 10);
  n = strtol(argv[3], NULL, 10);
  if (fd < 0) return 1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (i = 0; i < n; i++) {
    volatile unsigned char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return 1;
    sum += p[0];
    munmap((void *)p, size);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.1f %ld\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n, sum);
  return 0;
}
