/* SPDX-License-Identifier: Apache-2.0 */
/* AML byte-code builder; encodings follow ACPI 6.5 section 20 (AML) and
 * section 6.4 (resource data types). */
#include "common/aml.h"

#include <string.h>

/* Opcodes and prefixes (ACPI 6.5, 20.2). */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0A
#define AML_WORD_PREFIX		0x0B
#define AML_DWORD_PREFIX	0x0C
#define AML_STRING_PREFIX	0x0D
#define AML_QWORD_PREFIX	0x0E
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2E
#define AML_MULTI_NAME_PREFIX	0x2F
#define AML_EXT_OP_PREFIX	0x5B
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR		'\\'
#define AML_PARENT_PREFIX_CHAR	'^'
#define AML_NULL_NAME		0x00
#define AML_RETURN_OP		0xA4
#define AML_OPREGION_OP		0x80	/* after AML_EXT_OP_PREFIX */
#define AML_FIELD_OP		0x81	/* after AML_EXT_OP_PREFIX */
#define AML_LOCAL0_OP		0x60
#define AML_ARG0_OP		0x68
#define AML_STORE_OP		0x70
#define AML_AND_OP		0x7B
#define AML_NOTIFY_OP		0x86
#define AML_IF_OP		0xA0

/* Resource descriptor tags (ACPI 6.5, 6.4.2 and 6.4.3). */
#define RT_IRQ_NOFLAGS		0x22	/* small, type 0x04, length 2 */
#define RT_IO			0x47	/* small, type 0x08, length 7 */
#define RT_FIXED_IO		0x4B	/* small, type 0x09, length 3 */
#define RT_END_TAG		0x79	/* small, type 0x0F, length 1 */
#define RT_MEMORY32_FIXED	0x86
#define RT_DWORD_ADDRESS	0x87
#define RT_WORD_ADDRESS		0x88
#define RT_EXT_INTERRUPT	0x89
#define RT_QWORD_ADDRESS	0x8A

/* Address space descriptor fields. */
#define RT_SPACE_MEMORY		0
#define RT_SPACE_IO		1
#define RT_SPACE_BUS		2
#define RT_GFLAG_CONSUMER	(1u << 0)
#define RT_GFLAG_MIN_FIXED	(1u << 2)
#define RT_GFLAG_MAX_FIXED	(1u << 3)
#define RT_MEM_RW		(1u << 0)
#define RT_MEM_CACHEABLE	(1u << 1)	/* _MEM = 1 */
#define RT_IO_RANGE_ENTIRE	3		/* _RNG: ISA and non-ISA */

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->len = 0;
	a->cap = buf ? cap : 0;
	a->overflow = false;
	a->invalid = false;
}

/* Inserts n bytes at pos, moving what follows; the one place that grows the
 * output, so the capacity check lives only here. */
static void aml_insert(struct aml *a, size_t pos, const void *p, size_t n)
{
	if (!aml_ok(a) || n == 0)
		return;
	if (n > a->cap - a->len || pos > a->len) {
		a->overflow = true;
		return;
	}
	memmove(a->buf + pos + n, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, p, n);
	a->len += n;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	aml_insert(a, a->len, p, n);
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned width)
{
	uint8_t b[8];

	for (unsigned i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, width);
}

int aml_pkglen_encode(uint8_t out[4], size_t payload_len)
{
	/* Largest total (payload plus the PkgLength itself) per width: 6 bits
	 * in one byte, then 4 bits plus 8 per extra byte. */
	static const size_t max_total[4] = { 0x3F, 0xFFF, 0xFFFFF, 0xFFFFFFF };

	for (int width = 1; width <= 4; width++) {
		if (payload_len > max_total[width - 1] - (size_t)width)
			continue;
		size_t total = payload_len + (size_t)width;
		if (width == 1) {
			out[0] = (uint8_t)total;
			return 1;
		}
		/* Bits 7:6 of the lead byte count the bytes that follow;
		 * bits 3:0 hold the low nibble of the length. */
		out[0] = (uint8_t)(((width - 1) << 6) | (total & 0x0F));
		for (int i = 1; i < width; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return width;
	}
	return 0;
}

void aml_end(struct aml *a, size_t mark)
{
	uint8_t enc[4];

	if (!aml_ok(a))
		return;
	if (mark > a->len) {
		a->invalid = true;
		return;
	}
	int width = aml_pkglen_encode(enc, a->len - mark);
	if (!width) {
		a->invalid = true;
		return;
	}
	aml_insert(a, mark, enc, (size_t)width);
}

/* ---- Names -------------------------------------------------------------- */

static bool name_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_lead_char(c) || (c >= '0' && c <= '9');
}

/* Length of the NameSeg at s (up to '.' or the end), or 0 if malformed. */
static size_t name_seg_len(const char *s)
{
	size_t n = 0;

	if (!name_lead_char(s[0]))
		return 0;
	while (s[n] && s[n] != '.') {
		if (n == 4 || !name_char(s[n]))
			return 0;
		n++;
	}
	return n;
}

/* Counts the segments of a dotted path, or returns -1 if one is bad. */
static int name_path_segs(const char *s)
{
	int count = 0;

	if (!*s)
		return 0;
	for (;;) {
		size_t n = name_seg_len(s);
		if (!n || count == 255)
			return -1;
		count++;
		s += n;
		if (!*s)
			return count;
		s++;    /* the '.'; a trailing one fails on the next segment */
	}
}

static void aml_name_seg(struct aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };

	memcpy(seg, s, n);
	aml_bytes(a, seg, 4);
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *p = path;
	int segs;

	if (!p) {
		a->invalid = true;
		return;
	}
	if (*p == AML_ROOT_CHAR)
		p++;
	else
		while (*p == AML_PARENT_PREFIX_CHAR)
			p++;
	segs = name_path_segs(p);
	/* Only the root may be named without a segment ("\\"). */
	bool root = path[0] == AML_ROOT_CHAR && !path[1];
	if (segs < 0 || (segs == 0 && !root)) {
		a->invalid = true;
		return;
	}
	aml_bytes(a, path, (size_t)(p - path));
	if (segs == 0) {
		aml_byte(a, AML_NULL_NAME);
		return;
	}
	if (segs == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)segs);
	}
	while (*p) {
		size_t n = name_seg_len(p);
		aml_name_seg(a, p, n);
		p += n;
		if (*p == '.')
			p++;
	}
}

/* ---- Data objects ------------------------------------------------------- */

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= 0xFF) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xFFFFFFFF) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	if (!s) {
		a->invalid = true;
		return;
	}
	/* AML strings are ASCII without NULs (AsciiCharList, 0x01-0x7F). */
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7F) {
			a->invalid = true;
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int aml_eisaid_value(const char *id, uint32_t *out)
{
	uint8_t b[4];
	int h[4];

	if (!id || strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
	for (int i = 0; i < 4; i++)
		if ((h[i] = hex_value(id[3 + i])) < 0)
			return 0;
	/* Three 5-bit letters ('A' = 1) big-endian in the first two bytes,
	 * then the product number as two bytes of BCD-like hex. */
	unsigned c0 = (unsigned)(id[0] - 0x40), c1 = (unsigned)(id[1] - 0x40);
	unsigned c2 = (unsigned)(id[2] - 0x40);
	b[0] = (uint8_t)((c0 << 2) | (c1 >> 3));
	b[1] = (uint8_t)(((c1 & 7) << 5) | c2);
	b[2] = (uint8_t)((h[0] << 4) | h[1]);
	b[3] = (uint8_t)((h[2] << 4) | h[3]);
	*out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
	return 1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;

	if (!aml_eisaid_value(id, &v)) {
		a->invalid = true;
		return;
	}
	/* Always a DWord, as ASL's EISAID() emits, so the disassembler can
	 * show it as an EisaId even when the high byte is zero. */
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, v, 4);
}

/* ---- Named objects and packages ----------------------------------------- */

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

void aml_name_integer(struct aml *a, const char *path, uint64_t v)
{
	aml_name(a, path);
	aml_integer(a, v);
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	size_t mark = a->len;
	aml_name_string(a, path);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	size_t mark = a->len;
	aml_name_string(a, path);
	return mark;
}

size_t aml_method_begin(struct aml *a, const char *path, unsigned nargs,
			bool serialized)
{
	if (nargs > 7)
		a->invalid = true;
	aml_byte(a, AML_METHOD_OP);
	size_t mark = a->len;
	aml_name_string(a, path);
	/* MethodFlags: ArgCount in bits 2:0, SerializeFlag in bit 3, sync
	 * level 0. */
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
	return mark;
}

size_t aml_package_begin(struct aml *a, unsigned nr_elements)
{
	if (nr_elements > 255)
		a->invalid = true;
	aml_byte(a, AML_PACKAGE_OP);
	size_t mark = a->len;
	aml_byte(a, (uint8_t)nr_elements);
	return mark;
}

size_t aml_buffer_begin(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	return a->len;
}

void aml_buffer_end(struct aml *a, size_t mark)
{
	struct aml size;
	uint8_t tmp[9];

	if (!aml_ok(a))
		return;
	if (mark > a->len) {
		a->invalid = true;
		return;
	}
	/* The BufferSize integer goes before the bytes; encode it aside, then
	 * slide it in. */
	aml_init(&size, tmp, sizeof(tmp));
	aml_integer(&size, a->len - mark);
	aml_insert(a, mark, tmp, size.len);
	aml_end(a, mark);
}

void aml_return(struct aml *a)
{
	aml_byte(a, AML_RETURN_OP);
}

void aml_method_return_integer(struct aml *a, const char *path, uint64_t v)
{
	size_t m = aml_method_begin(a, path, 0, false);
	aml_return(a);
	aml_integer(a, v);
	aml_end(a, m);
}

/* ---- Operation regions and fields ---------------------------------------- */

void aml_operation_region(struct aml *a, const char *name, uint8_t space,
			  uint64_t offset, uint64_t len)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_OPREGION_OP);
	aml_name_string(a, name);
	aml_byte(a, space);
	aml_integer(a, offset);
	aml_integer(a, len);
}

size_t aml_field_begin(struct aml *a, const char *region,
		       enum aml_field_access access,
		       enum aml_field_update update)
{
	if ((unsigned)access > AML_FIELD_QWORD_ACC ||
	    (unsigned)update > AML_FIELD_WRITE_AS_ZEROS)
		a->invalid = true;
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_FIELD_OP);
	size_t mark = a->len;
	aml_name_string(a, region);
	/* FieldFlags: AccessType in bits 3:0, LockRule (NoLock = 0) in bit
	 * 4, UpdateRule in bits 6:5. */
	aml_byte(a, (uint8_t)((access & 0x0F) | ((update & 3) << 5)));
	return mark;
}

void aml_field_unit(struct aml *a, const char *name, uint32_t bits)
{
	size_t n = name ? name_seg_len(name) : 0;
	uint8_t enc[4];

	if (!n || name[n] || bits == 0 || bits > AML_PKGLEN_MAX) {
		a->invalid = true;
		return;
	}
	aml_name_seg(a, name, n);
	/* The bit count is written in PkgLength's format, but it counts
	 * bits, not its own bytes (ACPI 6.5, 20.2.5.2: NamedField). */
	int width = bits <= 0x3F ? 1 : bits <= 0xFFF ? 2 : bits <= 0xFFFFF ? 3 : 4;
	if (width == 1) {
		enc[0] = (uint8_t)bits;
	} else {
		enc[0] = (uint8_t)(((width - 1) << 6) | (bits & 0x0F));
		for (int i = 1; i < width; i++)
			enc[i] = (uint8_t)(bits >> (4 + 8 * (i - 1)));
	}
	aml_bytes(a, enc, (size_t)width);
}

/* ---- Statements --------------------------------------------------------- */

void aml_store(struct aml *a)
{
	aml_byte(a, AML_STORE_OP);
}

void aml_and(struct aml *a)
{
	aml_byte(a, AML_AND_OP);
}

size_t aml_if_begin(struct aml *a)
{
	aml_byte(a, AML_IF_OP);
	return a->len;
}

void aml_notify(struct aml *a)
{
	aml_byte(a, AML_NOTIFY_OP);
}

void aml_local(struct aml *a, unsigned n)
{
	if (n > 7) {
		a->invalid = true;
		return;
	}
	aml_byte(a, (uint8_t)(AML_LOCAL0_OP + n));
}

void aml_arg(struct aml *a, unsigned n)
{
	if (n > 6) {
		a->invalid = true;
		return;
	}
	aml_byte(a, (uint8_t)(AML_ARG0_OP + n));
}

void aml_null_target(struct aml *a)
{
	aml_byte(a, AML_NULL_NAME);
}

/* ---- Resource templates ------------------------------------------------- */

size_t aml_rt_begin(struct aml *a)
{
	return aml_buffer_begin(a);
}

void aml_rt_end(struct aml *a, size_t mark)
{
	/* Checksum 0: the OS treats the template as valid without one. */
	aml_byte(a, RT_END_TAG);
	aml_byte(a, 0);
	aml_buffer_end(a, mark);
}

/* Word, DWord and QWord address space descriptors differ only in the width
 * of their five numeric fields. */
static void rt_address(struct aml *a, uint8_t tag, unsigned width,
		       uint8_t space, uint8_t gflags, uint8_t tflags,
		       uint64_t min, uint64_t max)
{
	if (max < min) {
		a->invalid = true;
		return;
	}
	aml_byte(a, tag);
	aml_le(a, 3 + 5 * width, 2);
	aml_byte(a, space);
	aml_byte(a, gflags);
	aml_byte(a, tflags);
	aml_le(a, 0, width);                    /* _GRA: no alignment rule */
	aml_le(a, min, width);
	aml_le(a, max, width);
	aml_le(a, 0, width);                    /* _TRA */
	aml_le(a, max - min + 1, width);        /* _LEN */
}

#define RT_WINDOW_FLAGS (RT_GFLAG_MIN_FIXED | RT_GFLAG_MAX_FIXED)

void aml_rt_word_bus_number(struct aml *a, uint16_t min, uint16_t max)
{
	rt_address(a, RT_WORD_ADDRESS, 2, RT_SPACE_BUS, RT_WINDOW_FLAGS, 0,
		   min, max);
}

void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	rt_address(a, RT_WORD_ADDRESS, 2, RT_SPACE_IO, RT_WINDOW_FLAGS,
		   RT_IO_RANGE_ENTIRE, min, max);
}

static uint8_t rt_mem_flags(bool cacheable)
{
	return RT_MEM_RW | (cacheable ? RT_MEM_CACHEABLE : 0);
}

void aml_rt_dword_memory(struct aml *a, uint32_t min, uint32_t max,
			 bool cacheable)
{
	rt_address(a, RT_DWORD_ADDRESS, 4, RT_SPACE_MEMORY, RT_WINDOW_FLAGS,
		   rt_mem_flags(cacheable), min, max);
}

void aml_rt_qword_memory(struct aml *a, uint64_t min, uint64_t max,
			 bool cacheable)
{
	rt_address(a, RT_QWORD_ADDRESS, 8, RT_SPACE_MEMORY, RT_WINDOW_FLAGS,
		   rt_mem_flags(cacheable), min, max);
}

void aml_rt_qword_memory_consumer(struct aml *a, uint64_t min, uint64_t max)
{
	rt_address(a, RT_QWORD_ADDRESS, 8, RT_SPACE_MEMORY,
		   RT_WINDOW_FLAGS | RT_GFLAG_CONSUMER, rt_mem_flags(false),
		   min, max);
}

void aml_rt_memory32_fixed(struct aml *a, uint32_t base, uint32_t size,
			   bool writable)
{
	aml_byte(a, RT_MEMORY32_FIXED);
	aml_le(a, 9, 2);
	aml_byte(a, writable ? 1 : 0);
	aml_le(a, base, 4);
	aml_le(a, size, 4);
}

void aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
	       uint8_t len)
{
	aml_byte(a, RT_IO);
	aml_byte(a, 1);         /* decodes all 16 address bits */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_rt_fixed_io(struct aml *a, uint16_t base, uint8_t len)
{
	/* Fixed I/O descriptors decode only 10 address bits. */
	if (base > 0x3FF) {
		a->invalid = true;
		return;
	}
	aml_byte(a, RT_FIXED_IO);
	aml_le(a, base, 2);
	aml_byte(a, len);
}

void aml_rt_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		a->invalid = true;
		return;
	}
	aml_byte(a, RT_IRQ_NOFLAGS);
	aml_le(a, 1u << irq, 2);
}

void aml_rt_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low)
{
	/* Flags: bit 0 consumer, bit 1 edge, bit 2 active low; exclusive, not
	 * wake capable. */
	uint8_t flags = (uint8_t)(1u | (edge ? 2u : 0) | (active_low ? 4u : 0));

	aml_byte(a, RT_EXT_INTERRUPT);
	aml_le(a, 2 + 4, 2);    /* flags, count, one interrupt number */
	aml_byte(a, flags);
	aml_byte(a, 1);
	aml_le(a, gsi, 4);
}
