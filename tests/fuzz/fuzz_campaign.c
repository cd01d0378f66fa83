/* fuzz_campaign.c — libFuzzer target for what the campaign engine reads:
 *  - byte 0 even: the rest is a campaign definition (JSON, as an operator
 *    or a damaged row gives it): fleet_spec_parse, and for an accepted one
 *    the round trip parse(to_json(spec)) must give the same JSON again;
 *  - byte 0 odd: the rest is an agent's answer (JSON) fed to every step of
 *    the per-device state machine as the step's task result, as the
 *    TransferComplete! and the Boot! parameters; no step may crash, leak
 *    or report success for an answer whose image is not the target. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fleet_fw.h"
#include "fleet_spec.h"

static void spec_round_trip(const cJSON *j)
{
	struct fleet_spec s, again;
	struct uspc_err err;
	fleet_spec_init(&s);
	if (fleet_spec_parse(j, NULL, &s, &err) == 0) {
		cJSON *out = fleet_spec_to_json(&s);
		char *a = out ? cJSON_PrintUnformatted(out) : NULL;
		fleet_spec_init(&again);
		if (out && fleet_spec_parse(out, NULL, &again, &err) != 0)
			abort(); /* the normalised form must read back */
		cJSON *out2 = out ? fleet_spec_to_json(&again) : NULL;
		char *b = out2 ? cJSON_PrintUnformatted(out2) : NULL;
		if (a && b && strcmp(a, b) != 0)
			abort();
		for (size_t w = 0; w < s.n_waves + 1; w++)
			if (fleet_spec_wave_end(&s, w, 1000) > 1000)
				abort();
		int64_t left, opens;
		for (int d = 0; d < 7; d++)
			(void)fleet_spec_window(&s, d, d * 12345 % 86400, &left, &opens);
		free(a);
		free(b);
		cJSON_Delete(out);
		cJSON_Delete(out2);
		fleet_spec_fini(&again);
	}
	fleet_spec_fini(&s);
}

static void steps(const cJSON *j)
{
	static const struct {
		enum fleet_dev_state s;
		const char *step;
	} all[] = { { FLEET_DS_DOWNLOADING, "inspect" },   { FLEET_DS_DOWNLOADING, "repoint" },
		    { FLEET_DS_DOWNLOADING, "reinspect" }, { FLEET_DS_DOWNLOADING, "download" },
		    { FLEET_DS_DOWNLOADING, "transfer" },  { FLEET_DS_DOWNLOADING, "check" },
		    { FLEET_DS_DOWNLOADED, "ready" },      { FLEET_DS_ACTIVATING, "activate" },
		    { FLEET_DS_ACTIVATING, "set_boot" },   { FLEET_DS_ACTIVATING, "reboot" },
		    { FLEET_DS_REBOOTING, "wait_boot" },   { FLEET_DS_VERIFYING, "verify" } };
	struct fleet_spec s;
	fleet_spec_init(&s);
	s.urls[0] = strdup("http://fw.example/2.0.0.bin");
	s.n_urls = s.urls[0] ? 1 : 0;
	strcpy(s.version, "2.0.0");
	for (size_t i = 0; s.n_urls && i < sizeof(all) / sizeof(all[0]); i++)
		for (int k = 0; k < 4; k++) {
			struct fleet_dev_in in = { .spec = &s,
						   .campaign = 1,
						   .id = 2,
						   .state = all[i].s,
						   .step = all[i].step,
						   .attempt = 1 + k % 3,
						   .bank = "Device.DeviceInfo.FirmwareImage.2.",
						   .single_bank = k == 3,
						   .no_activate = k == 2,
						   .deadline_passed = k & 1,
						   .task = (enum fleet_task_end)k,
						   .task_result = j,
						   .transfer = j,
						   .boot = j,
						   .agent_ready = 1,
						   .agent_back = k > 1,
						   .may_activate = 1 };
			struct fleet_dev_out o;
			if (fleet_fw_advance(&in, &o) == 0) {
				/* success needs a Get showing the target from the chosen bank */
				struct fleet_banks b;
				if (o.state == FLEET_DS_SUCCEEDED &&
				    (fleet_fw_parse_banks(j, &b) < 0 ||
				     strcmp(b.sw_version, "2.0.0") != 0))
					abort();
				cJSON_Delete(o.task_req);
			}
		}
	fleet_spec_fini(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	cJSON *j = cJSON_Parse(text);
	if (j) {
		if (data[0] % 2 == 0)
			spec_round_trip(j);
		else
			steps(j);
		cJSON_Delete(j);
	}
	free(text);
	return 0;
}
