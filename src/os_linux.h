/* Linux's PROCMAP_QUERY, for os_posix.c and os_guard_posix.c (whose fault
 * handler asks it which file a faulting address maps). */
#ifndef MMAP_IO_OS_LINUX_H
#define MMAP_IO_OS_LINUX_H
#if defined(__linux__)
#include <stdint.h>
#include <sys/ioctl.h>

/* PROCMAP_QUERY (Linux 6.11): the kernel's record of the mapping that covers
 * an address, asked of /proc/self/maps with one ioctl, without reading it. */
struct procmap_query_v1 {
  uint64_t size;
  uint64_t query_flags;
  uint64_t query_addr;
  uint64_t vma_start;
  uint64_t vma_end;
  uint64_t vma_flags;
  uint64_t vma_page_size;
  uint64_t vma_offset;
  uint64_t inode;
  uint32_t dev_major;
  uint32_t dev_minor;
  uint32_t vma_name_size;
  uint32_t build_id_size;
  uint64_t vma_name_addr;
  uint64_t build_id_addr;
};
#define PROCMAP_QUERY_IOCTL _IOWR('f', 17, struct procmap_query_v1)

/* vma_flags: the mapping may be read. */
#define PROCMAP_QUERY_VMA_READABLE 1

#endif
#endif
