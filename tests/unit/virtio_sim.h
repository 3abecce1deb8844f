/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A simulated virtio driver for tests, fuzzing and benchmarks: fake guest
 * RAM (heap buffers, so ASan sees every byte outside it, with a hole
 * between a low and a high region), an io_loop driven from the calling
 * thread, and a split-ring driver that negotiates features through the
 * virtio_dev_* calls, builds direct and indirect chains, kicks queues
 * through eventfds watched by the loop (as a transport's ioeventfds
 * are), and collects used entries. Raw access to the rings lets tests
 * build malformed ones.
 *
 * Everything runs on the calling thread, which is the loop thread.
 */
#ifndef PHY_TESTS_VIRTIO_SIM_H
#define PHY_TESTS_VIRTIO_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;

#define SIM_MAX_QUEUES 16
#define SIM_MAX_INDIRECT 160 /* entries of each head's indirect table */
#define SIM_HIGH_GPA 0x100000000ull

struct virtio_sim;

/* Driver-side state of one split ring. */
struct sim_queue {
	struct virtio_sim *sim;
	unsigned index;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa, indirect_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;  /* &avail->ring[size] */
	uint16_t *avail_event; /* &used->ring[size] */
	uint16_t free_head, num_free;
	uint16_t *chain_len; /* ring descriptors per in-flight head */
	uint16_t avail_idx;  /* next avail entry the driver fills */
	uint16_t last_used;  /* next used entry the driver reads */
	int kick_fd;
	bool kicked;
	unsigned interrupts; /* queue interrupts the device raised */
};

/* Whether the device still has work in flight (its request count). */
typedef bool (*sim_busy_fn)(void *opaque);
/* Blocks until a device with a thread of its own has done what it was
 * given (virtio-gpu's GPU thread). */
typedef void (*sim_wait_fn)(void *opaque);

struct virtio_sim {
	struct guest_mem mem;
	uint8_t *low, *high; /* the two RAM regions' buffers */
	bool vm_ram;         /* mem from guest_mem_create (sim_create_vm_ram) */
	struct io_loop *loop;
	struct virtio_dev *dev;
	sim_busy_fn busy;
	void *busy_opaque;
	sim_wait_fn wait_idle;
	void *wait_opaque;
	struct sim_queue q[SIM_MAX_QUEUES];
	uint64_t features;   /* negotiated */
	uint64_t alloc_next; /* bump allocator in low RAM */
	unsigned config_interrupts;
	unsigned logs; /* messages the device logged */
	char last_log[256];
};

/* One buffer of a chain. */
struct sim_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/*
 * low_size bytes of RAM at GPA 0 and high_size (may be 0) at
 * SIM_HIGH_GPA, zeroed. Returns NULL when out of memory or io_uring is
 * unavailable.
 */
struct virtio_sim *sim_create(uint64_t low_size, uint64_t high_size);
/*
 * size bytes of RAM at GPA 0 mapped as the VMM maps a guest's
 * (guest_mem_create with GUEST_MEM_* flags), for benchmarks that should
 * see the same memory: its page size decides how the host's block layer
 * splits a request. No high region; NULL on failure.
 */
struct virtio_sim *sim_create_vm_ram(uint64_t size, unsigned guest_mem_flags);
/* Frees RAM and the loop: destroy the device first. */
void sim_destroy(struct virtio_sim *sim);

/* Plugs the device in as its transport (interrupt counting, log). */
void sim_attach(struct virtio_sim *sim, struct virtio_dev *dev,
		sim_busy_fn busy, void *busy_opaque);
/* For a device that works on a thread of its own: sim_run() also waits
 * for it. Its interrupts and log lines then come from that thread. */
void sim_set_waiter(struct virtio_sim *sim, sim_wait_fn wait, void *opaque);

/* Guest RAM: allocation (aligned, zeroed; aborts when full) and access. */
uint64_t sim_alloc(struct virtio_sim *sim, uint64_t size, uint64_t align);
void *sim_ptr(struct virtio_sim *sim, uint64_t gpa, uint64_t len);

/* Status register and configuration space, as the transport does them. */
void sim_set_status(struct virtio_sim *sim, uint8_t status);
/*
 * A vCPU thread resets the device (writes 0 to the status register)
 * while this thread drives the loop, which the reset may need to cancel
 * what is in flight. True once the reset returned; false when it has not
 * within timeout_ms (the thread is then left blocked: end the test).
 */
bool sim_reset_from_vcpu(struct virtio_sim *sim, int timeout_ms);
uint8_t sim_status(struct virtio_sim *sim);
void sim_config_read(struct virtio_sim *sim, uint32_t off, void *buf,
		     uint32_t len);

/* Reset, ACKNOWLEDGE | DRIVER, the features, FEATURES_OK. Returns 0 when
 * the device kept FEATURES_OK, -1 when it refused the features. */
int sim_negotiate(struct virtio_sim *sim, uint64_t features);
/* Allocates rings of `size` entries (once per queue and size), programs
 * and enables queue q. Returns 0 when the queue is ready. */
int sim_queue_setup(struct virtio_sim *sim, unsigned q, uint16_t size);
/* The same with rings the caller placed (and filled, or will fill): the
 * ring memory is left alone; sim_add() cannot make indirect chains. For
 * rings outside RAM it returns -1 without programming the device. */
int sim_queue_setup_at(struct virtio_sim *sim, unsigned q, uint16_t size,
		       uint64_t desc, uint64_t avail, uint64_t used);
void sim_driver_ok(struct virtio_sim *sim);
/* All of the above for queues 0..nr_queues-1; 0 when DRIVER_OK stuck. */
int sim_start(struct virtio_sim *sim, uint64_t features, unsigned nr_queues,
	      uint16_t size);

/*
 * Adds a chain and makes it available; indirect puts the buffers in the
 * head's indirect table (one ring descriptor). Returns the head, or -1
 * when the ring has too few free descriptors.
 */
int sim_add(struct virtio_sim *sim, unsigned q, const struct sim_buf *bufs,
	    unsigned n, bool indirect);
/* Whether the driver must notify for entries made available since
 * old_avail (EVENT_IDX or the NO_NOTIFY flag), as a driver decides. */
bool sim_kick_needed(struct virtio_sim *sim, unsigned q, uint16_t old_avail);
/* Notifies queue q (an eventfd write the loop picks up). */
void sim_kick(struct virtio_sim *sim, unsigned q);
/* Runs the loop until no kick is pending and the device is idle (and,
 * with a waiter, until the device's thread is). */
void sim_run(struct virtio_sim *sim);
/* Takes the next used entry: 1 with id/len, 0 when there is none. The
 * chain's descriptors go back to the free list; with EVENT_IDX the
 * driver asks for an interrupt at the next entry. */
int sim_get_used(struct virtio_sim *sim, unsigned q, uint16_t *id,
		 uint32_t *len);

/* Raw ring access for malformed rings: descriptor i, and an avail entry
 * naming `head` published without any checking. */
struct vring_desc *sim_desc(struct virtio_sim *sim, unsigned q, uint16_t i);
void sim_publish(struct virtio_sim *sim, unsigned q, uint16_t head);

/* The device status has DEVICE_NEEDS_RESET. */
bool sim_needs_reset(struct virtio_sim *sim);

#endif
