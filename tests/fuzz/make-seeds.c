/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a few well-formed seed inputs for fuzz_boot: a minimal bzImage
 * header and a minimal PVH ELF, each preceded by the knob byte. */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	if (!f)
		return;
	fwrite(b, 1, n, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	static uint8_t bz[1 + 4 * 512 + 8192];
	uint8_t *h = bz + 1;
	bz[0] = 0x21;
	h[0x1f1] = 3;                      /* setup_sects */
	h[0x1fe] = 0x55;
	h[0x1ff] = 0xaa;
	memcpy(h + 0x202, "HdrS", 4);
	h[0x206] = 0x0f;                   /* protocol 2.15 */
	h[0x207] = 0x02;
	h[0x201] = 0x6a;                   /* setup header length jump */
	uint32_t syssize = 8192 / 16, init_size = 0x200000, cl = 2048;
	uint32_t imax = 0x7fffffff;
	uint64_t pref = 0x1000000;
	memcpy(h + 0x1f4, &syssize, 4);
	h[0x211] = 0x01;                   /* LOADED_HIGH */
	h[0x234] = 1;                      /* relocatable */
	memcpy(h + 0x22c, &imax, 4);
	memcpy(h + 0x238, &cl, 4);
	h[0x236] = 0x03;                   /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	memcpy(h + 0x258, &pref, 8);
	memcpy(h + 0x260, &init_size, 4);
	put(dir, "bzimage", bz, sizeof(bz));

	static uint8_t el[1 + 4096];
	uint8_t *e = el + 1;
	el[0] = 0x10;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)e;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x100000;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	Elf64_Phdr *ph = (Elf64_Phdr *)(e + sizeof(*eh));
	ph[0].p_type = PT_LOAD;
	ph[0].p_offset = 0x400;
	ph[0].p_paddr = ph[0].p_vaddr = 0x100000;
	ph[0].p_filesz = 0x100;
	ph[0].p_memsz = 0x2000;
	ph[1].p_type = PT_NOTE;
	ph[1].p_offset = 0x300;
	ph[1].p_filesz = 20;
	uint32_t note[5] = { 4, 4, 18, 0x006e6558, 0x100000 };
	memcpy(e + 0x300, note, sizeof(note));
	put(dir, "pvh", el, sizeof(el));
	return 0;
}
