/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small AML (ACPI Machine Language) byte-code builder: just enough to write
 * a DSDT with devices, names, methods, resource templates, and the few
 * statements a Generic Event Device's _EVT needs (read a register field,
 * test a bit, Notify).
 *
 * The builder writes into a caller-supplied buffer and never past its
 * capacity. Errors are sticky: once the buffer is full (overflow) or a name
 * or value cannot be encoded (invalid), later calls do nothing, so a caller
 * may emit a whole table and check aml_ok() once at the end.
 *
 * Objects with a PkgLength (Scope, Device, Method, Package, Buffer) are
 * emitted between a *_begin() call, which returns a mark, and aml_end(),
 * which encodes the length in front of the contents. Calls must nest.
 */
#ifndef PHY_COMMON_AML_H
#define PHY_COMMON_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool overflow;  /* something did not fit in cap */
	bool invalid;   /* a bad name, string or value was passed */
};

/* The largest value a 4-byte PkgLength can hold (28 bits). */
#define AML_PKGLEN_MAX 0x0FFFFFFFu

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
static inline bool aml_ok(const struct aml *a)
{
	return !a->overflow && !a->invalid;
}
/* For a device whose description cannot be encoded (a port or interrupt
 * out of range): the table that holds it is not built. */
static inline void aml_fail(struct aml *a)
{
	a->invalid = true;
}

/*
 * Encodes the PkgLength of an object whose contents after the PkgLength are
 * payload_len bytes long. The encoded value counts its own bytes, so the
 * encoding width depends on itself. Returns the width (1-4), or 0 when the
 * package would be too large for AML.
 */
int aml_pkglen_encode(uint8_t out[4], size_t payload_len);

/* Raw bytes, for opcodes this builder has no helper for. */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/*
 * NameString: "_HID", "\\_SB.PCI0", "^CHLD", "\\" (the root). Segments
 * shorter than four characters are padded with '_', as ASL does.
 */
void aml_name_string(struct aml *a, const char *path);

/* Data objects. aml_integer() picks the shortest encoding. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* "PNP0A08" -> the compressed EISA id as a DWord constant. */
void aml_eisaid(struct aml *a, const char *id);
/* The EISA id as the 32-bit integer value the guest will see. Returns 0 and
 * leaves *out alone for a malformed id. */
int aml_eisaid_value(const char *id, uint32_t *out);

/* Name(path, <object>): the caller emits the object right after. */
void aml_name(struct aml *a, const char *path);
/* Name(path, integer), the common case. */
void aml_name_integer(struct aml *a, const char *path, uint64_t v);

/* Scope(), Device(), Method(): emit the body, then aml_end(a, mark). */
size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *path);
size_t aml_method_begin(struct aml *a, const char *path, unsigned nargs,
			bool serialized);
/* Package(n) { ... }: emit exactly n elements, then aml_end(). */
size_t aml_package_begin(struct aml *a, unsigned nr_elements);
/* Buffer() { bytes }: the size is computed by aml_buffer_end(). */
size_t aml_buffer_begin(struct aml *a);
void aml_buffer_end(struct aml *a, size_t mark);
void aml_end(struct aml *a, size_t mark);

/* Return(<object>): emit the object right after. */
void aml_return(struct aml *a);
/* Method(path, 0) { Return(v) } */
void aml_method_return_integer(struct aml *a, const char *path, uint64_t v);

/*
 * Operation regions and fields: registers a method can read by name.
 * OperationRegion(name, space, offset, len) with integer offset and length.
 */
#define AML_SPACE_SYSTEM_MEMORY 0
#define AML_SPACE_SYSTEM_IO     1
void aml_operation_region(struct aml *a, const char *name, uint8_t space,
			  uint64_t offset, uint64_t len);

/* Field(region, access, NoLock, update) { name, bits ... }: one
 * aml_field_unit() per field, in order from bit 0, then aml_end(). */
enum aml_field_access {
	AML_FIELD_ANY_ACC = 0,
	AML_FIELD_BYTE_ACC = 1,
	AML_FIELD_WORD_ACC = 2,
	AML_FIELD_DWORD_ACC = 3,
	AML_FIELD_QWORD_ACC = 4,
};
enum aml_field_update {
	AML_FIELD_PRESERVE = 0,
	AML_FIELD_WRITE_AS_ONES = 1,
	AML_FIELD_WRITE_AS_ZEROS = 2,
};
size_t aml_field_begin(struct aml *a, const char *region,
		       enum aml_field_access access,
		       enum aml_field_update update);
/* A named field of `bits` bits (a single NameSeg, 1 to 0x0FFFFFFF bits). */
void aml_field_unit(struct aml *a, const char *name, uint32_t bits);

/*
 * Statements and expressions, written in prefix order as AML is: emit the
 * opcode, then its operands.
 *   Store(src, dst):      aml_store(a); <src>; <dst>
 *   And(x, y, target):    aml_and(a); <x>; <y>; <target>
 *   If (pred) { ... }:    m = aml_if_begin(a); <pred>; <body>; aml_end(a, m)
 *   Notify(obj, value):   aml_notify(a); <obj name>; <value>
 */
void aml_store(struct aml *a);
void aml_and(struct aml *a);
size_t aml_if_begin(struct aml *a);
void aml_notify(struct aml *a);
/* Local0..Local7 and Arg0..Arg6. */
void aml_local(struct aml *a, unsigned n);
void aml_arg(struct aml *a, unsigned n);
/* The empty target: the result is not stored anywhere. */
void aml_null_target(struct aml *a);

/*
 * ResourceTemplate() { ... }: begin, add descriptors, end. The end tag (with
 * a zero checksum, meaning "not checksummed") is appended by aml_rt_end().
 */
size_t aml_rt_begin(struct aml *a);
void aml_rt_end(struct aml *a, size_t mark);

/* Address space descriptors as a host bridge produces them: positive
 * decode, fixed minimum and maximum, no translation. */
void aml_rt_word_bus_number(struct aml *a, uint16_t min, uint16_t max);
void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_rt_dword_memory(struct aml *a, uint32_t min, uint32_t max,
			 bool cacheable);
void aml_rt_qword_memory(struct aml *a, uint64_t min, uint64_t max,
			 bool cacheable);
/* QWordMemory(ResourceConsumer, ...): a range a device claims for itself. */
void aml_rt_qword_memory_consumer(struct aml *a, uint64_t min, uint64_t max);
void aml_rt_memory32_fixed(struct aml *a, uint32_t base, uint32_t size,
			   bool writable);

/* IO(Decode16, min, max, align, len) and FixedIO(base, len). */
void aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
	       uint8_t len);
void aml_rt_fixed_io(struct aml *a, uint16_t base, uint8_t len);
/* IRQNoFlags() { irq }: irq < 16. */
void aml_rt_irq_noflags(struct aml *a, unsigned irq);
/* Interrupt(ResourceConsumer, Edge or Level, ActiveHigh or ActiveLow,
 * Exclusive) { gsi } */
void aml_rt_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low);

#endif
