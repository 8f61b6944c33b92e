/*
 * wg_update_internal.h: helpers the update sources share; not public.
 */
#ifndef WG_UPDATE_INTERNAL_H
#define WG_UPDATE_INTERNAL_H

#include "weightgate_update.h"

/* Reads len bytes at flash offset `offset`: from the mapped flash, else
 * through the driver. 0 on success. */
int wg_update_read(const wg_updater *u, uint32_t offset, uint8_t *out, uint32_t len);

/* SHA-256 of flash[offset .. offset + len): straight over the mapped flash,
 * else 64 bytes at a time through the driver. 0 on success. Stack: a
 * SHA-256 context and 64 bytes. */
int wg_update_hash(const wg_updater *u, uint32_t offset, uint32_t len, uint8_t digest[32]);

#endif /* WG_UPDATE_INTERNAL_H */
