/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/pflash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Commands (Intel/Sharp command set). */
enum {
	CMD_READ_ARRAY_ALT = 0x00, /* read array in QEMU's model too */
	CMD_PROGRAM = 0x10,
	CMD_ERASE = 0x20,
	CMD_PROGRAM_ALT = 0x40,
	CMD_CLEAR_STATUS = 0x50,
	CMD_READ_STATUS = 0x70,
	CMD_READ_ID = 0x90,
	CMD_CFI_QUERY = 0x98,
	CMD_ERASE_CONFIRM = 0xD0,
	CMD_READ_ARRAY = 0xFF,
};

/* Status register bits. */
enum {
	SR_PROTECTED = 0x02,
	SR_PROGRAM_ERROR = 0x10,
	SR_ERASE_ERROR = 0x20,
	SR_READY = 0x80,
};

#define ID_MANUFACTURER 0x89 /* Intel */
#define ID_DEVICE 0x17	     /* a plausible x8 part; nothing checks it */
#define CFI_LEN 0x40

/* What a read returns and what the next written byte means. */
enum pflash_mode {
	MODE_ARRAY,
	MODE_STATUS,
	MODE_PROGRAM, /* after program setup: the next cycle is data */
	MODE_ERASE,   /* after erase setup: the next cycle must confirm */
	MODE_ID,
	MODE_CFI,
};

struct pflash {
	pthread_mutex_t lock; /* the device state: mode, status, dirty */
	enum pflash_mode mode;
	uint8_t status;
	bool dirty;

	uint8_t *buf;
	uint64_t size;
	uint32_t block_size;
	bool write_protect;
	uint8_t cfi[CFI_LEN];

	/* Serializes set_rom_mode calls; taken before `lock`, never under
	 * it, so the callback runs without the device lock. */
	pthread_mutex_t report_lock;
	bool reported_array; /* the mode the last call reported */
	pflash_rom_mode_fn set_rom_mode;
	void *opaque;
};

static unsigned ceil_log2(uint64_t v)
{
	unsigned n = 0;
	while (n < 63 && (1ull << n) < v)
		n++;
	return n;
}

/* The CFI query table (JESD68.01) of a byte-wide part: no Vpp, single
 * byte program only (no write buffer), one uniform erase block region,
 * and the Intel extended table that command set 0x0001 points to, with
 * no optional feature. Timeouts are nominal: the model takes no time. */
static void fill_cfi(struct pflash *pf)
{
	uint8_t *t = pf->cfi;
	uint32_t blocks_m1 = (uint32_t)(pf->size / pf->block_size - 1);
	uint32_t units = pf->block_size / 256;
	static const uint8_t ext[] = {'P', 'R', 'I', '1', '0'};

	memcpy(&t[0x10], "QRY", 3);
	t[0x13] = 0x01; /* primary command set: Intel/Sharp extended */
	t[0x15] = 0x31; /* its extended table's offset */
	t[0x1B] = 0x27; /* Vcc 2.7 V to 3.6 V */
	t[0x1C] = 0x36;
	t[0x1F] = 4; /* typical byte program: 2^4 us */
	t[0x21] = 7; /* typical block erase: 2^7 ms */
	t[0x23] = 4; /* maximum: 2^4 times typical */
	t[0x25] = 4;
	t[0x27] = (uint8_t)ceil_log2(pf->size);
	t[0x28] = 0x00; /* interface: x8 only */
	t[0x2C] = 1;	/* erase block regions */
	t[0x2D] = (uint8_t)blocks_m1;
	t[0x2E] = (uint8_t)(blocks_m1 >> 8);
	t[0x2F] = (uint8_t)units;
	t[0x30] = (uint8_t)(units >> 8);
	memcpy(&t[0x31], ext, sizeof(ext));
}

static int check_params(const struct pflash_params *p, struct phy_error *err)
{
	const char *name = p->name ? p->name : "flash";
	uint32_t b = p->block_size;
	if (!p->buf)
		return phy_err(err, PHY_E_INVALID, "%s: no contents", name);
	if (b < PFLASH_MIN_BLOCK || b > PFLASH_MAX_BLOCK || (b & (b - 1)))
		return phy_err(err, PHY_E_INVALID,
			       "%s: block size %u is not a power of two from "
			       "%u to %u bytes",
			       name, b, PFLASH_MIN_BLOCK, PFLASH_MAX_BLOCK);
	if (!p->size || p->size % b || p->size / b > PFLASH_MAX_BLOCKS)
		return phy_err(
			err, PHY_E_INVALID,
			"%s: size %llu is not 1 to %u blocks of %u bytes", name,
			(unsigned long long)p->size, PFLASH_MAX_BLOCKS, b);
	return 0;
}

int pflash_create(struct pflash **out, const struct pflash_params *p,
		  struct phy_error *err)
{
	*out = NULL;
	int r = check_params(p, err);
	if (r)
		return r;
	struct pflash *pf = calloc(1, sizeof(*pf));
	if (!pf)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory",
			       p->name ? p->name : "flash");
	pthread_mutex_init(&pf->lock, NULL);
	pthread_mutex_init(&pf->report_lock, NULL);
	pf->mode = MODE_ARRAY;
	pf->status = SR_READY;
	pf->buf = p->buf;
	pf->size = p->size;
	pf->block_size = p->block_size;
	pf->write_protect = p->write_protect;
	pf->reported_array = true;
	pf->set_rom_mode = p->set_rom_mode;
	pf->opaque = p->opaque;
	fill_cfi(pf);
	*out = pf;
	return 0;
}

void pflash_destroy(struct pflash *pf)
{
	if (!pf)
		return;
	pthread_mutex_destroy(&pf->report_lock);
	pthread_mutex_destroy(&pf->lock);
	free(pf);
}

bool pflash_array_mode(struct pflash *pf)
{
	pthread_mutex_lock(&pf->lock);
	bool array = pf->mode == MODE_ARRAY;
	pthread_mutex_unlock(&pf->lock);
	return array;
}

bool pflash_take_dirty(struct pflash *pf)
{
	pthread_mutex_lock(&pf->lock);
	bool dirty = pf->dirty;
	pf->dirty = false;
	pthread_mutex_unlock(&pf->lock);
	return dirty;
}

/* Identifier and CFI data repeat in every block, as on parts that
 * decode only the low address bits for them; a block's lock state is
 * its own (at offset 2). */
static uint8_t id_byte(const struct pflash *pf, uint64_t off)
{
	switch (off & (pf->block_size - 1)) {
	case 0:
		return ID_MANUFACTURER;
	case 1:
		return ID_DEVICE;
	case 2:
		return pf->write_protect;
	default:
		return 0;
	}
}

static uint8_t cfi_byte(const struct pflash *pf, uint64_t off)
{
	uint64_t q = off & (pf->block_size - 1);
	return q < CFI_LEN ? pf->cfi[q] : 0;
}

static uint8_t read_byte(const struct pflash *pf, uint64_t off)
{
	switch (pf->mode) {
	case MODE_ARRAY:
		return pf->buf[off];
	case MODE_ID:
		return id_byte(pf, off);
	case MODE_CFI:
		return cfi_byte(pf, off);
	default: /* status, and program or erase setup */
		return pf->status;
	}
}

static void program(struct pflash *pf, uint64_t off, uint8_t data)
{
	if (pf->write_protect) {
		pf->status |= SR_PROGRAM_ERROR | SR_PROTECTED;
	} else {
		pf->buf[off] &= data;
		pf->dirty = true;
	}
	pf->status |= SR_READY;
	pf->mode = MODE_STATUS;
}

static void erase_confirm(struct pflash *pf, uint64_t off, uint8_t cmd)
{
	if (cmd != CMD_ERASE_CONFIRM) {
		/* A command sequence error: both error bits. */
		pf->status |= SR_PROGRAM_ERROR | SR_ERASE_ERROR;
	} else if (pf->write_protect) {
		pf->status |= SR_ERASE_ERROR | SR_PROTECTED;
	} else {
		uint64_t start = off & ~(uint64_t)(pf->block_size - 1);
		memset(pf->buf + start, 0xFF, pf->block_size);
		pf->dirty = true;
	}
	pf->status |= SR_READY;
	pf->mode = MODE_STATUS;
}

static enum pflash_mode command(struct pflash *pf, uint8_t cmd)
{
	switch (cmd) {
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
		return MODE_PROGRAM;
	case CMD_ERASE:
		return MODE_ERASE;
	case CMD_CLEAR_STATUS:
		pf->status = 0;
		return MODE_ARRAY;
	case CMD_READ_STATUS:
		return MODE_STATUS;
	case CMD_READ_ID:
		return MODE_ID;
	case CMD_CFI_QUERY:
		return MODE_CFI;
	case CMD_READ_ARRAY:
	case CMD_READ_ARRAY_ALT:
	default: /* unsupported (lock bits, buffered write, suspend) */
		return MODE_ARRAY;
	}
}

static void write_cycle(struct pflash *pf, uint64_t off, uint8_t v)
{
	switch (pf->mode) {
	case MODE_PROGRAM:
		program(pf, off, v);
		break;
	case MODE_ERASE:
		erase_confirm(pf, off, v);
		break;
	default:
		pf->mode = command(pf, v);
		break;
	}
}

/* Tells set_rom_mode the mode the flash is in now, if it differs from
 * what it last heard. Under report_lock only: the mode is read under the
 * device lock, the call is made after it is released. */
static void report_mode(struct pflash *pf)
{
	if (!pf->set_rom_mode)
		return;
	pthread_mutex_lock(&pf->report_lock);
	bool array = pflash_array_mode(pf);
	if (array != pf->reported_array) {
		pf->reported_array = array;
		pf->set_rom_mode(pf->opaque, array);
	}
	pthread_mutex_unlock(&pf->report_lock);
}

/* Byte i of an access at off lies in the flash: no wrap, not past it. */
static bool in_flash(const struct pflash *pf, uint64_t off, uint32_t i)
{
	return off + i >= off && off + i < pf->size;
}

static void pflash_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct pflash *pf = opaque;
	pthread_mutex_lock(&pf->lock);
	for (uint32_t i = 0; i < len; i++)
		data[i] = in_flash(pf, off, i) ? read_byte(pf, off + i) : 0xFF;
	pthread_mutex_unlock(&pf->lock);
}

static void pflash_write(void *opaque, uint64_t off, const uint8_t *data,
			 uint32_t len)
{
	struct pflash *pf = opaque;
	pthread_mutex_lock(&pf->lock);
	for (uint32_t i = 0; i < len; i++)
		if (in_flash(pf, off, i))
			write_cycle(pf, off + i, data[i]);
	pthread_mutex_unlock(&pf->lock);
	report_mode(pf);
}

const struct bus_device_ops pflash_bus_ops = {
	.read = pflash_read,
	.write = pflash_write,
};
