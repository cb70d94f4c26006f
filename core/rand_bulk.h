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

/* The offsets i (ascending) among units unit0 .. unit0+count-1 for which
 * db_rare_below(seed, stream, step, unit, t) holds, drawn in bulk: the rare events (DropBlock
 * seeds) found by a vector compare of the units' bytes. hits holds count + DB_RAND_HITS_SLACK
 * entries (the scan stores a few past the last hit); returns how many. */
enum { DB_RAND_HITS_SLACK = 4 };
int db_rand_hits(int *hits, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0, int count,
                 uint32_t t);

/* The same decisions as a bitmap: bit b of bits[b / 64] is the decision for unit
 * (unit0 & ~63) + b, set where db_rare_below holds; units before unit0 or from unit0 + count on
 * are 0. Fills (unit0 % 64 + count + 63) / 64 words and one zero word after them (room for
 * reading a field that ends at the last unit). */
void db_rand_bits(uint64_t *bits, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0, int count,
                  uint32_t t);

/* The same decision for every unit: flags[i] = db_rare_below(..., unit0 + i, t). */
void db_rand_below(uint8_t *flags, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0, int count,
                   uint32_t t);

#endif
