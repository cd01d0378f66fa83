/* usp_json.c — placeholder until the JSON module lands. */
