/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cloud Hypervisor's VmConfig JSON both ways: what vm.info writes loads
 * back into the same configuration (vm.create), the bodies libvirt and
 * Cloud Hypervisor itself write are taken, and every kind of bad document
 * is refused with its path in the message, the configuration untouched
 * where the call promises it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tun_helper.h"
#include "vmm/config/config.h"
#include "vmm/config/config_disk.h"
#include "vmm/config/config_json.h"
#include "vmm/config/config_net.h"

static struct phy_error err;

static int apply(struct phy_config *c, const char *json)
{
	memset(&err, 0, sizeof(err));
	return config_json_apply(c, json, strlen(json), "vm.create", &err);
}

/* dump(apply(dump(c))) == dump(c): nothing is lost or changed. */
static void check_round_trip(struct phy_config *c)
{
	char *a = config_json_dump(c, NULL);
	CHECK(a != NULL);
	if (!a)
		return;
	struct phy_config *back = phy_config_new();
	CHECK(apply(back, a) == 0);
	if (err.message[0])
		printf("  round trip: %s\n", err.message);
	char *b = config_json_dump(back, NULL);
	CHECK(b && !strcmp(a, b));
	if (b && strcmp(a, b))
		printf("  was %s\n  now %s\n", a, b);
	free(a);
	free(b);
	phy_config_free(back);
}

static void test_round_trip(void)
{
	struct phy_config *c = phy_config_new();
	const char *opts[][2] = {
		{ "kernel", "/boot/vm\"linuz" },
		{ "initramfs", "/boot/initrd.img" },
		{ "cmdline", "console=ttyS0 root=/dev/vda quiet" },
		{ "cpus", "boot=3" },
		{ "memory", "size=1G,shared=on,thp=off" },
		{ "disk", "path=/a.img" },
		{ "disk", "path=/b.img,readonly=on,id=data,num_queues=2,queue_size=128,direct=on" },
		{ "net", "tap=tap7,mac=52:54:00:00:00:01,num_queues=4,ip=10.0.0.1,mask=255.255.0.0" },
		{ "net", "tap=,id=lan" },
		{ "rng", "src=/dev/random" },
		{ "vsock", "cid=42,socket=/run/v.sock,id=vs" },
		{ "balloon", "size=256M,free_page_reporting=on" },
		{ "fs", "tag=myfs,socket=/run/fs.sock,num_queues=2,id=f0" },
		{ "fs", "tag=two,socket=/run/fs2.sock,queue_size=256" },
		{ "serial", "file=/tmp/s.log" },
		{ "gpu", "mode=2d,outputs=2,width=800,height=600" },
		{ "screenshot-on-exit", "/tmp/shot.png" },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		CHECK(phy_config_set(c, opts[i][0], opts[i][1], &err) == 0);
	char *text = config_json_dump(c, NULL);
	CHECK(text != NULL);
	printf("  vm.info config: %s\n", text ? text : "(null)");
	CHECK_STR_CONTAINS(text, "\"cpus\":{\"boot_vcpus\":3,\"max_vcpus\":3}");
	CHECK_STR_CONTAINS(text, "\"memory\":{\"size\":1073741824,\"shared\":true,\"thp\":false}");
	CHECK_STR_CONTAINS(text, "\"kernel\":\"/boot/vm\\\"linuz\"");
	CHECK_STR_CONTAINS(text, "{\"path\":\"/b.img\",\"readonly\":true,\"direct\":true,"
				 "\"num_queues\":2,\"queue_size\":128,\"id\":\"data\"}");
	CHECK_STR_CONTAINS(text, "\"ip\":\"10.0.0.1\",\"mask\":\"255.255.0.0\"");
	CHECK_STR_CONTAINS(text, "\"id\":\"_net0\"");
	CHECK_STR_CONTAINS(text, "\"rng\":{\"src\":\"/dev/random\"}");
	CHECK_STR_CONTAINS(text, "\"vsock\":{\"cid\":42,\"socket\":\"/run/v.sock\",\"iommu\":false,"
				 "\"id\":\"vs\",\"pci_segment\":0}");
	CHECK_STR_CONTAINS(text, "\"balloon\":{\"size\":268435456,\"deflate_on_oom\":false,"
				 "\"free_page_reporting\":true}");
	CHECK_STR_CONTAINS(text, "\"fs\":[{\"tag\":\"myfs\",\"socket\":\"/run/fs.sock\","
				 "\"num_queues\":2,\"queue_size\":1024,\"id\":\"f0\",\"pci_segment\":0},"
				 "{\"tag\":\"two\",\"socket\":\"/run/fs2.sock\",\"num_queues\":1,"
				 "\"queue_size\":256,\"id\":null,\"pci_segment\":0}]");
	CHECK_STR_CONTAINS(text, "\"serial\":{\"file\":\"/tmp/s.log\",\"mode\":\"File\",\"socket\":null}");
	CHECK_STR_CONTAINS(text, "\"gpu\":{\"mode\":\"2d\",\"width\":800,\"height\":600,\"outputs\":2");
	free(text);
	check_round_trip(c);
	phy_config_free(c);

	/* The defaults, and firmware with its variables. */
	c = phy_config_new();
	check_round_trip(c);
	text = config_json_dump(c, NULL);
	CHECK_STR_CONTAINS(text, "\"disks\":null");
	CHECK_STR_CONTAINS(text, "\"kernel\":null");
	CHECK_STR_CONTAINS(text, "\"vsock\":null");
	CHECK_STR_CONTAINS(text, "\"balloon\":null");
	CHECK_STR_CONTAINS(text, "\"fs\":null");
	free(text);
	CHECK(phy_config_set(c, "firmware", "path=/fw.fd,vars=/v.fd,vars_template=/t.fd", &err) == 0);
	CHECK(phy_config_set(c, "rng", "off", &err) == 0);
	text = config_json_dump(c, NULL);
	CHECK_STR_CONTAINS(text, "\"payload\":{\"firmware\":\"/fw.fd\",\"kernel\":null,"
				 "\"cmdline\":null,\"initramfs\":null}");
	CHECK_STR_CONTAINS(text, "\"rng\":null");
	CHECK_STR_CONTAINS(text, "\"firmware_vars\":\"/v.fd\",\"firmware_vars_template\":\"/t.fd\"");
	free(text);
	check_round_trip(c);
	phy_config_free(c);

	/* A pty's path, known only once the VM runs, is the file. */
	c = phy_config_new();
	const struct config_json_runtime rt = { .serial_file = "/dev/pts/7" };
	text = config_json_dump(c, &rt);
	CHECK_STR_CONTAINS(text, "\"serial\":{\"file\":\"/dev/pts/7\"");
	free(text);
	phy_config_free(c);
}

/* What libvirt's ch driver and Cloud Hypervisor's own vm.info write. */
static void test_peer_documents(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(apply(c, "{\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":2},"
		       "\"memory\":{\"size\":536870912},"
		       "\"payload\":{\"kernel\":\"/k\",\"cmdline\":\"console=ttyS0\",\"initramfs\":\"/i\"},"
		       "\"disks\":[{\"path\":\"/d.img\",\"readonly\":true}],"
		       "\"serial\":{\"mode\":\"Null\"}}") == 0);
	CHECK(c->cpus == 2 && c->memory == 512ULL << 20);
	CHECK(c->kernel && !strcmp(c->kernel, "/k"));
	CHECK(c->initramfs && !strcmp(c->initramfs, "/i"));
	CHECK(c->serial == SERIAL_NULL);
	const struct disk_config *d = config_item(c, &disk_option, 0);
	CHECK(d && d->readonly && !strcmp(d->path, "/d.img"));
	CHECK(phy_config_validate(c, &err) == 0);
	phy_config_free(c);

	c = phy_config_new();
	CHECK(apply(c, "{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1,\"topology\":null,"
		       "\"kvm_hyperv\":false,\"max_phys_bits\":46,\"affinity\":null,\"features\":{}},"
		       "\"memory\":{\"size\":1073741824,\"mergeable\":false,\"hotplug_method\":\"Acpi\","
		       "\"hotplug_size\":null,\"hotplugged_size\":null,\"shared\":false,"
		       "\"hugepages\":false,\"hugepage_size\":null,\"prefault\":false,\"zones\":null,\"thp\":true},"
		       "\"payload\":{\"firmware\":null,\"kernel\":\"/k\",\"cmdline\":null,\"initramfs\":null,"
		       "\"igvm\":null,\"host_data\":null},"
		       "\"rate_limit_groups\":null,"
		       "\"disks\":[{\"path\":\"/d\",\"readonly\":false,\"direct\":false,\"iommu\":false,"
		       "\"num_queues\":1,\"queue_size\":128,\"vhost_user\":false,\"vhost_socket\":null,"
		       "\"rate_limit_group\":null,\"rate_limiter_config\":null,\"id\":\"_disk0\","
		       "\"disable_io_uring\":false,\"disable_aio\":false,\"pci_segment\":0,"
		       "\"serial\":null,\"queue_affinity\":null}],"
		       "\"net\":[{\"tap\":null,\"ip\":\"192.168.249.1\",\"mask\":\"255.255.255.0\","
		       "\"mac\":\"12:34:56:78:90:ab\",\"host_mac\":null,\"mtu\":null,\"iommu\":false,"
		       "\"num_queues\":2,\"queue_size\":256,\"vhost_user\":false,\"vhost_socket\":null,"
		       "\"vhost_mode\":\"Client\",\"id\":\"_net0\",\"fds\":null,\"rate_limiter_config\":null,"
		       "\"pci_segment\":0,\"offload_tso\":true,\"offload_ufo\":true,\"offload_csum\":true}],"
		       "\"rng\":{\"src\":\"/dev/urandom\",\"iommu\":false},\"balloon\":null,\"fs\":null,"
		       "\"pmem\":null,\"serial\":{\"file\":null,\"mode\":\"Null\",\"iommu\":false,\"socket\":null},"
		       "\"console\":{\"file\":null,\"mode\":\"Off\",\"iommu\":false,\"socket\":null},"
		       "\"debug_console\":{\"file\":null,\"mode\":\"Off\",\"iobase\":233},"
		       "\"devices\":null,\"user_devices\":null,\"vdpa\":null,\"vsock\":null,"
		       "\"pvpanic\":false,\"iommu\":false,\"sgx_epc\":null,\"numa\":null,"
		       "\"watchdog\":false,\"platform\":null,\"tpm\":null,\"preserved_fds\":null,"
		       "\"landlock_enable\":false,\"landlock_rules\":null}") == 0);
	if (err.message[0])
		printf("  CH's document: %s\n", err.message);
	const struct net_config *n = config_item(c, &net_option, 0);
	CHECK(n && n->has_ip && n->pairs == 1 && n->mac[5] == 0xab);
	phy_config_free(c);
}

/* Refused, with `path` in the one-line message. */
static void bad(const char *json, const char *path)
{
	struct phy_config *c = phy_config_new();
	CHECK_EQ_U64(apply(c, json), -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "vm.create: ");
	CHECK_STR_CONTAINS(err.message, path);
	CHECK(!strchr(err.message, '\n'));
	phy_config_free(c);
}

/* Cloud Hypervisor's landlock_enable and landlock_rules, both ways. */
static void test_landlock(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(apply(c, "{\"payload\":{\"kernel\":\"/k\"},\"landlock_enable\":true,"
		       "\"landlock_rules\":[{\"path\":\"/tmp\",\"access\":\"rw\"},"
		       "{\"path\":\"/dev/null\",\"access\":\"r\"}]}") == 0);
	char *d = config_json_dump(c, NULL);
	CHECK(d && strstr(d, "\"landlock_enable\":true,\"landlock_rules\":[{\"path\":"
			     "\"/tmp\",\"access\":\"rw\"},{\"path\":\"/dev/null\","
			     "\"access\":\"r\"}]"));
	free(d);
	check_round_trip(c);
	phy_config_free(c);
	c = phy_config_new();
	d = config_json_dump(c, NULL);
	CHECK(d && strstr(d, "\"landlock_enable\":false,\"landlock_rules\":null"));
	free(d);
	phy_config_free(c);
}

/* Cloud Hypervisor's cpus.affinity, both ways, and what it refuses. */
static void test_affinity(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(apply(c, "{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"boot_vcpus\":2,"
		       "\"max_vcpus\":2,\"affinity\":[{\"vcpu\":1,\"host_cpus\":[3,1,1]},"
		       "{\"vcpu\":0,\"host_cpus\":[0]}]}}") == 0);
	CHECK(c->cpus == 2 && c->nr_affinity == 2);
	char *d = config_json_dump(c, NULL);
	CHECK(d && strstr(d, "\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":2,\"affinity\":"
			     "[{\"vcpu\":1,\"host_cpus\":[1,3]},{\"vcpu\":0,\"host_cpus\":[0]}]}"));
	free(d);
	check_round_trip(c);
	/* null: as if absent (Cloud Hypervisor's default). */
	CHECK(apply(c, "{\"cpus\":{\"boot_vcpus\":2,\"affinity\":null}}") == 0);
	phy_config_free(c);
	bad("{\"cpus\":{\"affinity\":{}}}", "cpus.affinity: expected an array");
	bad("{\"cpus\":{\"affinity\":[1]}}", "cpus.affinity[0]: expected an object");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":0}]}}", "cpus.affinity[0]: vcpu and host_cpus are required");
	bad("{\"cpus\":{\"affinity\":[{\"host_cpus\":[0]}]}}", "cpus.affinity[0]: vcpu and host_cpus");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":-1,\"host_cpus\":[0]}]}}", "cpus.affinity[0].vcpu");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":0,\"host_cpus\":[]}]}}", "no host CPU");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":0,\"host_cpus\":0}]}}", "cpus.affinity[0].host_cpus: expected an array");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":0,\"host_cpus\":[1024]}]}}", "cpus.affinity[0].host_cpus[0]");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":0,\"host_cpus\":[0,\"1\"]}]}}", "cpus.affinity[0].host_cpus[1]");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":0,\"host_cpus\":[0],\"x\":1}]}}", "cpus.affinity[0].x: unknown member");
	bad("{\"cpus\":{\"affinity\":[{\"vcpu\":0,\"host_cpus\":[0]},{\"vcpu\":0,\"host_cpus\":[1]}]}}",
	    "affinity gives vCPU 0 twice");
}

static void test_bad_documents(void)
{
	bad("", "not JSON");
	bad("{", "not JSON");
	bad("[1,2]", "expected a JSON object");
	bad("{\"cpus\":{\"boot_vcpus\":1},\"cpus\":{\"boot_vcpus\":2}}", "duplicate");
	bad("{\"cpuz\":{}}", "cpuz: unknown member");
	bad("{\"cpus\":{\"boot_vcpus\":\"2\"}}", "cpus.boot_vcpus: expected an integer");
	bad("{\"cpus\":{\"boot_vcpus\":-1}}", "cpus.boot_vcpus");
	bad("{\"cpus\":{\"boot_vcpus\":1.5}}", "cpus.boot_vcpus");
	bad("{\"cpus\":{\"boot_vcpus\":0}}", "--cpus");
	bad("{\"cpus\":{\"boot_vcpus\":99999}}", "cpus.boot_vcpus");
	bad("{\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":4}}", "cpus.max_vcpus: 4 is not boot_vcpus");
	bad("{\"cpus\":{\"topology\":{\"threads_per_core\":2}}}", "cpus.topology: not supported");
	bad("{\"cpus\":[]}", "cpus: expected an object");
	bad("{\"landlock_enable\":1}", "landlock_enable: expected true or false");
	bad("{\"landlock_rules\":{}}", "landlock_rules: expected an array");
	bad("{\"landlock_rules\":[{\"path\":\"/tmp\"}]}",
	    "landlock_rules[0]: path and access are required");
	bad("{\"landlock_rules\":[{\"path\":\"/tmp\",\"access\":\"x\"}]}",
	    "--landlock-rules: access=x");
	bad("{\"landlock_rules\":[{\"path\":\"/nonexistent\",\"access\":\"r\"}]}",
	    "--landlock-rules: path=/nonexistent");
	bad("{\"landlock_rules\":[{\"path\":\"/tmp\",\"access\":\"r\",\"x\":1}]}",
	    "landlock_rules[0].x: unknown member");
	bad("{\"memory\":{\"size\":1}}", "--memory");
	bad("{\"memory\":{\"hugepages\":true}}", "memory.hugepages: not supported");
	bad("{\"memory\":{\"shared\":1}}", "memory.shared: expected true or false");
	bad("{\"payload\":{\"cmdline\":\"x\"}}", "payload: initramfs and cmdline need a kernel");
	bad("{\"payload\":{\"kernel\":5}}", "payload.kernel: expected a string");
	bad("{\"payload\":{\"kernel\":\"/a\\u0000b\"}}", "not JSON: \\u0000 is not allowed");
	bad("{\"payload\":{\"igvm\":\"/x\"}}", "payload.igvm: not supported (only null)");
	bad("{\"payload\":{\"firmware\":\"/a,b\"}}", "payload.firmware: paths with ','");
	bad("{\"phyllome\":{\"firmware_vars\":\"/v\"}}", "phyllome: firmware_vars needs payload.firmware");
	bad("{\"disks\":{}}", "disks: expected an array");
	bad("{\"disks\":[{\"readonly\":true}]}", "disks[0]: path is required");
	bad("{\"disks\":[{\"path\":\"/a\"},{\"path\":\"/b\",\"bar\":1}]}", "disks[1].bar: unknown member");
	bad("{\"disks\":[{\"path\":\"/a\",\"vhost_user\":true}]}", "disks[0].vhost_user: not supported");
	bad("{\"disks\":[{\"path\":\"/a\",\"queue_size\":3}]}", "disks[0]: --disk");
	bad("{\"net\":[{\"mtu\":9000}]}", "net[0].mtu: not supported");
	bad("{\"net\":[{\"fds\":[3,4]}]}", "net[0].fds: not supported");
	bad("{\"net\":[{\"mac\":\"zz\"}]}", "net[0]: --net");
	bad("{\"rng\":{}}", "rng: src is required");
	bad("{\"serial\":{\"mode\":\"Console\"}}", "serial.mode: 'Console' is not");
	bad("{\"serial\":{\"mode\":\"File\"}}", "serial: mode File needs file");
	bad("{\"serial\":{}}", "serial: mode is required");
	bad("{\"devices\":[{\"path\":\"/sys/bus/pci/devices/0000:01:00.0/\"}]}", "devices: not supported");
	bad("{\"vsock\":{\"socket\":\"/v\"}}", "vsock: cid is required");
	bad("{\"vsock\":{\"cid\":3}}", "vsock: socket is required");
	bad("{\"vsock\":{\"cid\":2,\"socket\":\"/v\"}}", "vsock: --vsock: cid=2 is reserved");
	bad("{\"vsock\":{\"cid\":4294967295,\"socket\":\"/v\"}}", "vsock: --vsock: cid=4294967295");
	bad("{\"vsock\":{\"cid\":4294967296,\"socket\":\"/v\"}}", "vsock.cid: expected an integer");
	bad("{\"vsock\":{\"cid\":-1,\"socket\":\"/v\"}}", "vsock.cid: expected an integer");
	bad("{\"vsock\":{\"cid\":3,\"socket\":\"/v,id=x\"}}", "vsock.socket: paths with ','");
	bad("{\"vsock\":{\"cid\":3,\"socket\":\"/v\",\"iommu\":true}}", "vsock.iommu: not supported");
	bad("{\"vsock\":{\"cid\":3,\"socket\":\"/v\",\"pci_segment\":1}}", "vsock.pci_segment: not supported");
	bad("{\"vsock\":{\"cid\":3,\"socket\":\"/v\",\"port\":1}}", "vsock.port: unknown member");
	bad("{\"vsock\":[]}", "vsock: expected an object");
	bad("{\"fs\":{}}", "fs: expected an array");
	bad("{\"fs\":[{\"socket\":\"/s\"}]}", "fs[0]: tag is required");
	bad("{\"fs\":[{\"tag\":\"t\"}]}", "fs[0]: socket is required");
	bad("{\"fs\":[{\"tag\":\"t,x\",\"socket\":\"/s\"}]}", "fs[0].tag: ");
	bad("{\"fs\":[{\"tag\":\"t\",\"socket\":\"/s\",\"num_queues\":0}]}",
	    "fs[0]: --fs: num_queues=0");
	bad("{\"fs\":[{\"tag\":\"t\",\"socket\":\"/s\",\"cache_size\":1}]}",
	    "fs[0].cache_size: unknown member");
	bad("{\"balloon\":{}}", "balloon: size is required");
	bad("{\"balloon\":{\"size\":-5}}", "balloon.size: expected an integer");
	bad("{\"balloon\":{\"size\":4097}}", "balloon: --balloon: size=4097 is not a size");
	bad("{\"balloon\":{\"size\":4096,\"deflate_on_oom\":1}}", "balloon.deflate_on_oom: expected true or false");
	bad("{\"balloon\":{\"size\":4096,\"free_page_hint\":true}}", "balloon.free_page_hint: unknown member");
	bad("{\"phyllome\":{\"gpu\":{\"mode\":\"3d\"}}}", "phyllome.gpu: --gpu");
	bad("{\"phyllome\":{\"gpu\":{\"mode\":\"2d,outputs=9\"}}}", "phyllome.gpu");
	bad("{\"phyllome\":{\"windows\":1}}", "phyllome.windows: unknown member");
	bad("{\"phyllome\":3}", "phyllome: expected an object");

	/* Too many entries: refused before any is added. */
	char *big = malloc(70 * 24 + 32);
	strcpy(big, "{\"disks\":[");
	for (int i = 0; i < 70; i++)
		strcat(big, i ? ",{\"path\":\"/d\"}" : "{\"path\":\"/d\"}");
	strcat(big, "]}");
	bad(big, "disks: more than 64 entries");
	free(big);
	/* A document past the limit is not even parsed. */
	size_t n = CONFIG_JSON_MAX + 2;
	char *huge = malloc(n + 1);
	memset(huge, ' ', n);
	huge[0] = '{';
	huge[n - 1] = '}';
	huge[n] = 0;
	bad(huge, "larger than");
	free(huge);
}

/* vm.add-disk and vm.add-net: all or nothing. */
static void test_add(void)
{
	struct phy_config *c = phy_config_new();
	CHECK(phy_config_set(c, "kernel", "/k", &err) == 0);
	char *before = config_json_dump(c, NULL);
	const char *bodies[] = {
		"", "[]", "{\"path\":\"/d\",\"id\":5}", "{\"id\":\"x\"}",
		"{\"path\":\"/d\",\"queue_size\":7}", "{\"path\":\"/d\",\"x\":1}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		memset(&err, 0, sizeof(err));
		CHECK_EQ_U64(config_json_add_disk(c, bodies[i], strlen(bodies[i]), &err),
			     -PHY_E_INVALID);
		CHECK_STR_CONTAINS(err.message, "vm.add-disk: ");
		char *now = config_json_dump(c, NULL);
		CHECK(now && !strcmp(now, before));
		free(now);
	}
	const char *ok = "{\"path\":\"/d\",\"readonly\":true,\"id\":\"d0\"}";
	CHECK(config_json_add_disk(c, ok, strlen(ok), &err) == 0);
	CHECK(config_count(c, &disk_option) == 1);
	/* The same id again is the option layer's to refuse. */
	CHECK(config_json_add_disk(c, ok, strlen(ok), &err) != 0 ||
	      config_count(c, &disk_option) == 2);

	/* A NIC with descriptors that are not a tap's: refused, the
	 * configuration as it was, no descriptor kept. */
	free(before);
	before = config_json_dump(c, NULL);
	int p[2];
	CHECK(pipe(p) == 0);
	int open_before = open_fd_count();
	const char *net = "{\"id\":\"n0\",\"mac\":\"52:54:00:00:00:09\"}";
	memset(&err, 0, sizeof(err));
	CHECK_EQ_U64(config_json_add_net(c, net, strlen(net), p, 2, &err), -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "vm.add-net: --net");
	CHECK_EQ_U64(open_fd_count(), open_before);
	const char *both = "{\"tap\":\"t0\"}";
	CHECK_EQ_U64(config_json_add_net(c, both, strlen(both), p, 1, &err), -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "tap and descriptors");
	char *now = config_json_dump(c, NULL);
	CHECK(now && !strcmp(now, before));
	free(now);
	close(p[0]);
	close(p[1]);
	CHECK(config_json_add_net(c, net, strlen(net), NULL, 0, &err) == 0);
	CHECK(config_count(c, &net_option) == 1);
	free(before);
	phy_config_free(c);
}

/* --config FILE: the document first, the options after it on top. */
static void test_config_file(void)
{
	char path[] = "/tmp/phy-test-config-json-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	const char *doc = "{\"cpus\":{\"boot_vcpus\":2},\"memory\":{\"size\":268435456},"
			  "\"payload\":{\"kernel\":\"/k\"},\"disks\":[{\"path\":\"/a\"}]}";
	CHECK(write(fd, doc, strlen(doc)) == (ssize_t)strlen(doc));
	close(fd);
	struct phy_config *c = phy_config_new();
	CHECK(phy_config_set(c, "config", path, &err) == 0);
	CHECK(phy_config_set(c, "cpus", "boot=4", &err) == 0);
	CHECK(phy_config_set(c, "disk", "path=/b", &err) == 0);
	CHECK(c->cpus == 4 && c->memory == 256ULL << 20);
	CHECK(config_count(c, &disk_option) == 2);
	CHECK(phy_config_validate(c, &err) == 0);
	phy_config_free(c);

	c = phy_config_new();
	CHECK_EQ_U64(phy_config_set(c, "config", "/nonexistent/vm.json", &err), -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--config: cannot open '/nonexistent/vm.json'");
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "{\"cpus\":3}", 10) == 10);
	close(fd);
	CHECK_EQ_U64(phy_config_set(c, "config", path, &err), -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--config: cpus: expected an object");
	CHECK_EQ_U64(phy_config_set(c, "config", "/tmp", &err), -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--config: cannot read '/tmp'");
	phy_config_free(c);
	unlink(path);
}

int main(void)
{
	test_round_trip();
	test_peer_documents();
	test_bad_documents();
	test_landlock();
	test_affinity();
	test_add();
	test_config_file();
	return check_report("test_config_json");
}
