/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench's runtime: what a freestanding guest program in user mode needs
 * (port and MMIO access, the TSC, COM1 output, power-off, the command
 * line, a latency histogram). Port I/O from user mode: see entry.S.
 */
#ifndef DEVBENCH_RT_H
#define DEVBENCH_RT_H

#include <stddef.h>
#include <stdint.h>

#define barrier() __asm__ volatile("" ::: "memory")
#define mb() __asm__ volatile("mfence" ::: "memory")
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "d"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "d"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "d"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint32_t rd32(uint64_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void wr32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static inline uint16_t rd16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}

static inline void wr16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

static inline uint8_t rd8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}

static inline void wr8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

void putc(char c);
void puts(const char *s);
void puthex(uint64_t v);
/* " key=value" */
void kv(const char *k, uint64_t v);
void __attribute__((noreturn)) poweroff(int code);
/* "DEVBENCH-ERROR what 0x...", the fail line, power-off. */
void __attribute__((noreturn)) fail(const char *what, uint64_t v);

int memeq(const char *a, const char *b, size_t n);

struct options {
	char jobs[256];
	uint64_t ms, ops, span_mb, gen, maxgen, tsc_khz, verify, seed;
};
extern struct options opt;
void parse_cmdline(void);
/* The TSC's kHz: tsc_khz=, CPUID 0x40000010, or the PIT; *src says which. */
uint64_t tsc_khz(const char **src);

/* Latency histogram of TSC cycles: 16 steps per power of two. */
void hist_reset(void);
void hist_add(uint64_t cycles);
uint64_t hist_pct(uint64_t per_mille);

uint64_t rnd(void);

#endif
