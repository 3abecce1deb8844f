/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PVH loader: an uncompressed ELF64 vmlinux whose XEN_ELFNOTE_PHYS32_ENTRY
 * note names a 32-bit entry point (Linux: pvh_start_xen). The segments go
 * to their physical addresses, and the vCPU starts in flat 32-bit protected
 * mode with EBX pointing at struct hvm_start_info (Xen's
 * arch-x86/hvm/start_info.h, version 1 for the memory map).
 *
 * The image is untrusted input: every offset and size read from it is
 * checked against the file and guest RAM without overflowing.
 */
#include "boot/boot.h"

#include <elf.h>
#include <stdbool.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "boot/loader.h"
#include "common/error.h"

#define PVH_START_MAGIC          0x336ec578U
#define PVH_START_VERSION        1  /* adds memmap_paddr/memmap_entries */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_NOTE_NAME            "Xen" /* with its NUL: n_namesz == 4 */

struct pvh_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct pvh_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* same values as e820 */
	uint32_t reserved;
};

_Static_assert(sizeof(struct pvh_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct pvh_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct pvh_memmap_entry) == 24,
	       "hvm_memmap_table_entry");

/* start_info, then the memory map, then the module list. */
#define PVH_MEMMAP_GPA  (X86_PVH_START_INFO_GPA + sizeof(struct pvh_start_info))
#define PVH_MODLIST_GPA \
	(PVH_MEMMAP_GPA + X86_E820_MAX * sizeof(struct pvh_memmap_entry))
_Static_assert(PVH_MODLIST_GPA + sizeof(struct pvh_modlist_entry) <=
	       X86_ZERO_PAGE_GPA, "PVH boot info overruns the zero page");

/* What a scan of the program headers found. */
struct pvh_kernel {
	uint64_t start; /* lowest p_paddr of a PT_LOAD */
	uint64_t end;   /* highest p_paddr + p_memsz */
	uint64_t entry;
	bool have_entry;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int pvh_read_ehdr(const struct boot_image *k, Elf64_Ehdr *eh,
			 struct phy_error *err)
{
	const char *name = boot_image_name(k, "kernel");

	if (k->size < sizeof(*eh))
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is truncated (%zu bytes, smaller than an ELF64 header)",
			       name, k->size);
	memcpy(eh, k->data, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return phy_err(err, PHY_E_IMAGE, "'%s' is not an ELF file", name);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is not a little-endian ELF64 file", name);
	if (eh->e_machine != EM_X86_64)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is not an x86_64 ELF (e_machine %u)", name,
			       eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is not an ELF executable (e_type %u)", name,
			       eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' has no usable ELF program headers", name);
	uint64_t table = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (eh->e_phoff > k->size || table > k->size - eh->e_phoff)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is truncated (%u ELF program headers at 0x%llx overrun its %zu bytes)",
			       name, eh->e_phnum,
			       (unsigned long long)eh->e_phoff, k->size);
	return 0;
}

/* The table was bounds-checked; memcpy because e_phoff may be unaligned. */
static void pvh_read_phdr(const struct boot_image *k, const Elf64_Ehdr *eh,
			  unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, k->data + eh->e_phoff + (uint64_t)i * sizeof(*ph),
	       sizeof(*ph));
}

static bool pvh_in_file(const struct boot_image *k, const Elf64_Phdr *ph)
{
	return ph->p_offset <= k->size &&
	       ph->p_filesz <= k->size - ph->p_offset;
}

static int pvh_check_load(const struct guest_mem *mem,
			  const struct boot_image *k, unsigned i,
			  const Elf64_Phdr *ph, struct pvh_kernel *kern,
			  struct phy_error *err)
{
	const char *name = boot_image_name(k, "kernel");
	uint64_t low_end = boot_low_ram_end(mem);

	if (ph->p_filesz > ph->p_memsz)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': ELF segment %u is larger in the file than in memory",
			       name, i);
	if (!pvh_in_file(k, ph))
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is truncated (ELF segment %u needs file bytes 0x%llx+0x%llx, the file has %zu)",
			       name, i, (unsigned long long)ph->p_offset,
			       (unsigned long long)ph->p_filesz, k->size);
	/* Below 1 MiB it would overwrite start_info, the command line and
	 * the page tables. */
	if (ph->p_paddr < X86_HIMEM_GPA)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': ELF segment %u at 0x%llx is below 1 MiB",
			       name, i, (unsigned long long)ph->p_paddr);
	if (ph->p_paddr >= low_end || ph->p_memsz > low_end - ph->p_paddr)
		return phy_err(err, PHY_E_IMAGE,
			       "kernel too large for guest memory: '%s' segment %u spans 0x%llx+0x%llx, the guest has %llu MiB below 0x%llx",
			       name, i, (unsigned long long)ph->p_paddr,
			       (unsigned long long)ph->p_memsz,
			       (unsigned long long)(low_end >> 20),
			       (unsigned long long)X86_MMIO_HOLE_GPA);
	if (ph->p_paddr < kern->start)
		kern->start = ph->p_paddr;
	if (ph->p_paddr + ph->p_memsz > kern->end)
		kern->end = ph->p_paddr + ph->p_memsz;
	return 0;
}

/* Reads the entry address from a PHYS32_ENTRY note's descriptor. */
static int pvh_note_entry(const char *name, const uint8_t *desc,
			  uint32_t descsz, struct pvh_kernel *kern,
			  struct phy_error *err)
{
	/* Linux emits a .long or, on older kernels, a 64-bit _ASM_PTR. */
	if (descsz == 4) {
		uint32_t v;
		memcpy(&v, desc, sizeof(v));
		kern->entry = v;
	} else if (descsz == 8) {
		memcpy(&kern->entry, desc, sizeof(kern->entry));
	} else {
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': PVH entry note has a %u-byte address",
			       name, descsz);
	}
	kern->have_entry = true;
	return 0;
}

/* Walks the notes of one PT_NOTE segment looking for the PVH entry. */
static int pvh_scan_notes(const struct boot_image *k, const Elf64_Phdr *ph,
			  struct pvh_kernel *kern, struct phy_error *err)
{
	const char *name = boot_image_name(k, "kernel");
	const uint8_t *p = k->data + ph->p_offset;
	uint64_t len = ph->p_filesz, off = 0;
	/* Notes are 4-byte aligned unless the segment asks for 8. */
	uint64_t align = ph->p_align == 8 ? 8 : 4;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		uint64_t name_len = align_up(nh.n_namesz, align);
		if (name_len > len - off || nh.n_descsz > len - off - name_len)
			return phy_err(err, PHY_E_IMAGE,
				       "'%s': malformed ELF note", name);
		const uint8_t *note_name = p + off;
		const uint8_t *desc = note_name + name_len;
		off += name_len;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    nh.n_namesz == sizeof(XEN_NOTE_NAME) &&
		    !memcmp(note_name, XEN_NOTE_NAME, sizeof(XEN_NOTE_NAME))) {
			int ret = pvh_note_entry(name, desc, nh.n_descsz, kern,
						 err);
			if (ret < 0)
				return ret;
		}
		uint64_t desc_len = align_up(nh.n_descsz, align);
		off += desc_len < len - off ? desc_len : len - off;
	}
	return 0;
}

static int pvh_scan(const struct guest_mem *mem, const struct boot_image *k,
		    const Elf64_Ehdr *eh, struct pvh_kernel *kern,
		    struct phy_error *err)
{
	const char *name = boot_image_name(k, "kernel");
	Elf64_Phdr ph;
	int ret = 0;

	kern->start = UINT64_MAX;
	kern->end = 0;
	kern->have_entry = false;
	for (unsigned i = 0; i < eh->e_phnum && ret == 0; i++) {
		pvh_read_phdr(k, eh, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_memsz)
			ret = pvh_check_load(mem, k, i, &ph, kern, err);
		else if (ph.p_type == PT_NOTE && !pvh_in_file(k, &ph))
			ret = phy_err(err, PHY_E_IMAGE,
				      "'%s' is truncated (ELF note segment %u lies past its end)",
				      name, i);
		else if (ph.p_type == PT_NOTE)
			ret = pvh_scan_notes(k, &ph, kern, err);
	}
	if (ret < 0)
		return ret;
	if (kern->end == 0)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' has no loadable ELF segments", name);
	if (!kern->have_entry)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY; CONFIG_PVH=y is needed)",
			       name);
	if (kern->entry < kern->start || kern->entry >= kern->end)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': PVH entry 0x%llx is outside the kernel's segments",
			       name, (unsigned long long)kern->entry);
	return 0;
}

static int pvh_copy_segments(struct guest_mem *mem,
			     const struct boot_image *k, const Elf64_Ehdr *eh,
			     struct phy_error *err)
{
	Elf64_Phdr ph;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		pvh_read_phdr(k, eh, i, &ph);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		uint8_t *dst = guest_mem_ptr(mem, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return phy_err(err, PHY_E_INTERNAL,
				       "kernel: segment %u is outside guest RAM",
				       i);
		if (boot_image_copy(mem, ph.p_paddr, k, ph.p_offset,
				    ph.p_filesz) < 0)
			return phy_err(err, PHY_E_INTERNAL,
				       "kernel: segment %u is outside guest RAM",
				       i);
		/* .bss: guest memory may hold a previous boot's data. */
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}

static int pvh_write_memmap(struct guest_mem *mem, uint64_t ram_size,
			    uint32_t *count, struct phy_error *err)
{
	struct x86_e820_entry map[X86_E820_MAX];
	struct pvh_memmap_entry table[X86_E820_MAX];
	int n = x86_e820_build(ram_size, map, X86_E820_MAX);

	if (n < 0)
		return phy_err(err, PHY_E_INTERNAL, "e820: map does not fit");
	memset(table, 0, sizeof(table));
	for (int i = 0; i < n; i++) {
		table[i].addr = map[i].addr;
		table[i].size = map[i].size;
		table[i].type = map[i].type;
	}
	if (guest_mem_write(mem, PVH_MEMMAP_GPA, table,
			    (size_t)n * sizeof(table[0])) < 0)
		return phy_err(err, PHY_E_INVALID,
			       "memory: guest RAM too small for the PVH memory map");
	*count = (uint32_t)n;
	return 0;
}

static int pvh_write_start_info(struct guest_mem *mem,
				const struct boot_request *req,
				const struct boot_entry *out,
				struct phy_error *err)
{
	struct pvh_start_info si = {
		.magic = PVH_START_MAGIC,
		.version = PVH_START_VERSION,
		.cmdline_paddr = X86_CMDLINE_GPA,
		.rsdp_paddr = req->rsdp_gpa,
		.memmap_paddr = PVH_MEMMAP_GPA,
	};
	int ret = pvh_write_memmap(mem, mem->ram_size, &si.memmap_entries, err);
	if (ret < 0)
		return ret;
	if (out->initrd_size) {
		struct pvh_modlist_entry mod = {
			.paddr = out->initrd_gpa,
			.size = out->initrd_size,
		};
		if (guest_mem_write(mem, PVH_MODLIST_GPA, &mod,
				    sizeof(mod)) < 0)
			return phy_err(err, PHY_E_INVALID,
				       "memory: guest RAM too small for the PVH module list");
		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST_GPA;
	}
	if (guest_mem_write(mem, X86_PVH_START_INFO_GPA, &si, sizeof(si)) < 0)
		return phy_err(err, PHY_E_INVALID,
			       "memory: guest RAM too small for hvm_start_info");
	return 0;
}

int boot_load_pvh(struct guest_mem *mem, const struct boot_request *req,
		  struct boot_entry *out, struct phy_error *err)
{
	struct pvh_kernel kern = { 0 };
	Elf64_Ehdr eh;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = pvh_read_ehdr(&req->kernel, &eh, err);
	if (ret < 0)
		return ret;
	ret = pvh_scan(mem, &req->kernel, &eh, &kern, err);
	if (ret < 0)
		return ret;
	/* Linux states no limit here; it truncates to COMMAND_LINE_SIZE. */
	ret = boot_check_cmdline(req, UINT64_MAX, err);
	if (ret < 0)
		return ret;
	ret = boot_place_initrd(mem, req, kern.end, UINT64_MAX, out, err);
	if (ret < 0)
		return ret;

	ret = pvh_copy_segments(mem, &req->kernel, &eh, err);
	if (ret < 0)
		return ret;
	ret = boot_write_cmdline(mem, req, err);
	if (ret < 0)
		return ret;
	ret = boot_write_initrd(mem, req, out, err);
	if (ret < 0)
		return ret;
	ret = pvh_write_start_info(mem, req, out, err);
	if (ret < 0)
		return ret;

	out->mode = BOOT_ENTRY_PVH32;
	out->entry_gpa = kern.entry;
	out->info_gpa = X86_PVH_START_INFO_GPA;
	out->kernel_gpa = kern.start;
	out->kernel_end = kern.end;
	return 0;
}
