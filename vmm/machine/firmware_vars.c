// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "vmm/machine/firmware_vars.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/firmware.h"
#include "common/error.h"

/* OVMF_CODE_4M.fd -> OVMF_VARS_4M.fd in the same directory, if there. */
static char *default_template(const char *image_path)
{
	char *dir_copy = strdup(image_path), *base_copy = strdup(image_path);
	char *out = NULL;
	if (dir_copy && base_copy) {
		char *base = basename(base_copy), *code = strstr(base, "CODE");
		if (code && asprintf(&out, "%s/%.*sVARS%s", dirname(dir_copy),
				     (int)(code - base), base, code + 4) < 0)
			out = NULL;
	}
	free(dir_copy);
	free(base_copy);
	return out;
}

static int write_new(const char *path, const uint8_t *data, size_t size,
		     struct phy_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_IMAGE, errno,
				     "--firmware: cannot create vars file '%s'",
				     path);
	ssize_t n = pwrite(fd, data, size, 0);
	int e = errno;
	if (n != (ssize_t)size || fsync(fd) < 0) {
		e = n < 0 ? e : n != (ssize_t)size ? EIO : errno;
		close(fd);
		unlink(path);
		return phy_err_errno(err, PHY_E_IMAGE, e,
				     "--firmware: cannot write vars file '%s'", path);
	}
	close(fd);
	return 0;
}

static int create_from_template(const char *path, const char *template,
				const char *image_path, const uint8_t *image,
				size_t image_size, struct phy_error *err)
{
	uint64_t own = firmware_vars_store_size(image, image_size);
	if (!template && own && own < image_size)
		return write_new(path, image, own, err);
	char *dflt = template ? NULL : default_template(image_path);
	const char *t = template ? template : dflt;
	if (!t) {
		free(dflt);
		return phy_err(err, PHY_E_INVALID,
			       "--firmware: vars file '%s' does not exist and "
			       "there is no template for it (vars_template=)",
			       path);
	}
	struct boot_image tmpl;
	int ret = boot_image_open(&tmpl, t, "--firmware: vars_template", err);
	if (!ret)
		ret = firmware_check_vars(tmpl.data, tmpl.size,
					  "firmware: vars_template", err);
	/* Checked before anything is written, as the layout would refuse it. */
	if (!ret && own && own != tmpl.size)
		ret = phy_err(err, PHY_E_IMAGE,
			      "--firmware: the variables file has %zu bytes but "
			      "the image's own variable store has %llu", tmpl.size,
			      (unsigned long long)own);
	if (!ret)
		ret = write_new(path, tmpl.data, tmpl.size, err);
	boot_image_close(&tmpl);
	free(dflt);
	return ret;
}

int firmware_vars_open(struct firmware_vars *v, const char *path,
		       const char *template, const char *image_path,
		       const uint8_t *image, size_t image_size,
		       struct phy_error *err)
{
	memset(v, 0, sizeof(*v));
	v->fd = -1;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		int ret = create_from_template(path, template, image_path, image,
					       image_size, err);
		if (ret)
			return ret;
	}
	v->fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;
	if (v->fd < 0 || fstat(v->fd, &st) < 0)
		return phy_err_errno(err, PHY_E_IMAGE, errno,
				     "--firmware: cannot open vars file '%s'", path);
	if (!S_ISREG(st.st_mode))
		return phy_err(err, PHY_E_IMAGE,
			       "--firmware: vars file '%s' is not a regular file",
			       path);
	if (flock(v->fd, LOCK_EX | LOCK_NB) < 0)
		return phy_err_errno(err, PHY_E_IMAGE, errno,
				     "--firmware: vars file '%s' is in use by "
				     "another VM", path);
	if (!st.st_size || st.st_size > (off_t)FIRMWARE_MAX_SIZE)
		return phy_err(err, PHY_E_IMAGE,
			       "--firmware: vars file '%s' has %lld bytes, not a "
			       "variable store", path, (long long)st.st_size);
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, v->fd, 0);
	if (p == MAP_FAILED)
		return phy_err_errno(err, PHY_E_IMAGE, errno,
				     "--firmware: cannot map vars file '%s'", path);
	v->data = p;
	v->size = (size_t)st.st_size;
	return firmware_check_vars(v->data, v->size, "firmware: vars", err);
}

void firmware_vars_close(struct firmware_vars *v)
{
	if (v->data) {
		msync(v->data, v->size, MS_SYNC);
		munmap(v->data, v->size);
	}
	if (v->fd >= 0)
		close(v->fd);
	memset(v, 0, sizeof(*v));
	v->fd = -1;
}
