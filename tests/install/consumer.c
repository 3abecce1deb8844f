/* SPDX-License-Identifier: Apache-2.0 */
/* A program built only from the installed header and pkg-config flags:
 * proves the public API is self-contained and the library links. */
#include <phyllome/vmm.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct phy_error err;
	struct phy_config *cfg = phy_config_new();
	if (!cfg || phy_config_set(cfg, "cpus", "boot=2", &err))
		return 1;
	if (phy_config_set(cfg, "memory", "size=lots", &err) != -PHY_E_INVALID ||
	    !strstr(err.message, "--memory"))
		return 1;
	phy_config_free(cfg);
	printf("phyllome-vmm %s\n", phy_version());
	return strcmp(phy_version(), "@V@") == 0 ? 0 : 1;
}
