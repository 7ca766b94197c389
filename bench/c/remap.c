/* 8b in C: map SIZE bytes of FILE shared, touch every page (write one byte
 * of each with ACCESS "write", read it with "read"), then grow the mapping
 * to twice SIZE and touch the first SIZE bytes again the same way, timing
 * the growth and the second pass. MODE "remap" moves the page tables with
 * mremap (MREMAP_MAYMOVE); "keep" moves them as mmap-io's remap() does,
 * keeping the old addresses mapped (MREMAP_DONTUNMAP, Linux 5.13+ for a
 * shared mapping) into a reservation of the new length, then grows in
 * place there; "unmap" unmaps and maps again.
 * usage: remap FILE SIZE MODE ACCESS -> prints milliseconds */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec a, b;
  size_t size, i;
  long page = sysconf(_SC_PAGESIZE), sum = 0;
  volatile unsigned char *p;
  int fd, write, prot;
  if (argc != 5) return 2;
  write = strcmp(argv[4], "write") == 0;
  prot = write ? PROT_READ | PROT_WRITE : PROT_READ;
  fd = open(argv[1], write ? O_RDWR : O_RDONLY);
  size = strtoul(argv[2], NULL, 10);
  if (fd < 0) return 1;
  p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 1;
  for (i = 0; i < size; i += (size_t)page) {
    if (write) p[i] = (unsigned char)(i >> 12);
    else sum += p[i];
  }
  clock_gettime(CLOCK_MONOTONIC, &a);
  if (strcmp(argv[3], "remap") == 0) {
    p = mremap((void *)p, size, 2 * size, MREMAP_MAYMOVE);
  } else if (strcmp(argv[3], "keep") == 0) {
    /* At the old range's offset from a 2 MiB boundary, as mmap-io's is:
     * whole page tables move. */
    const size_t pmd = 2UL << 20;
    char *r = mmap(NULL, 2 * size + pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return 1;
    r += ((size_t)p - (size_t)r) & (pmd - 1);
    p = mremap((void *)p, size, size, MREMAP_MAYMOVE | MREMAP_FIXED | 4 /* DONTUNMAP */, r);
    if (p == MAP_FAILED) return 1;
    munmap(r + size, size);
    p = mremap((void *)p, size, 2 * size, 0);
  } else {
    munmap((void *)p, size);
    p = mmap(NULL, 2 * size, prot, MAP_SHARED, fd, 0);
  }
  if (p == MAP_FAILED) return 1;
  for (i = 0; i < size; i += (size_t)page) {
    if (write) p[i] = (unsigned char)((i >> 12) + 1);
    else sum += p[i];
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.2f %ld\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e6, sum);
  return 0;
}
