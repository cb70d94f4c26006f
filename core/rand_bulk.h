/* Many Philox words at once on the CPU: the same numbers as db_rand4 (core/philox.h), eight
 * counters per AVX2 pass where the machine has it. The regularizers' CPU loops draw a word per
 * unit; one block at a time, the draws alone cost more than a training step's worth of
 * element-wise work (measured: DropBlock at every ResNet-20 site was 25% of the step). */
#ifndef DB_CORE_RAND_BULK_H
#define DB_CORE_RAND_BULK_H

#include <stdint.h>

/* out[i] = word (u % 4) of db_rand4(seed, stream, step, u / 4) for u = unit0 + i, i < count:
 * the word a per-unit body would read for logical unit u. */
void db_rand_words(uint32_t *out, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0,
                   int count);

/* The same decision for every unit: flags[i] = db_rare_below(..., unit0 + i, t). */
void db_rand_below(uint8_t *flags, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0, int count,
                   uint32_t t);

#endif
