#ifndef C_ALLOCATION_COUNTER_H
#define C_ALLOCATION_COUNTER_H

#include <stdint.h>

/// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by any thread
/// of the process between start and stop. Linked only into the bench executable, whose own definitions of these
/// functions take the place of glibc's for the whole process.
void mw_allocations_start(void);
uint64_t mw_allocations_stop(void);

#endif
