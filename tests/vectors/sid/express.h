/* Made by tests/vectors/sid/express.mjs with cookie-signature 1.0.7. */
#define EXPRESS_SECRET_A "keyboard cat"
#define EXPRESS_SECRET_B "rotated-secret-2024"
static const struct { const char *comment, *value, *sid; } express_vectors[] = {
	{ "secret A signs \"Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa\"", "s%3AHn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.nakM7vcyJme6F%2F1ZVFSWfjGaLIXOBDr3UDxLnCBpzQI", "Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa" },
	{ "secret B (a rotated one) signs \"Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa\"", "s%3AHn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.%2FHET4UfAostvp7HcjHXoUgmIEl52A3CkOmLF5DLiV4A", "Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa" },
	{ "secret A signs \"a.b.c-dotted_id\"", "s%3Aa.b.c-dotted_id.eeFZteC62GWYJKGoJsN0YOY13BkFYjFg7vAJox8untM", "a.b.c-dotted_id" },
	{ "secret B (a rotated one) signs \"a.b.c-dotted_id\"", "s%3Aa.b.c-dotted_id.QM%2FTtFyVGtabdcVCZMBPHNGVUMUHxE6%2FpH58xx0sggo", "a.b.c-dotted_id" },
	{ "secret A signs \"x\"", "s%3Ax.QbtlXSTVNejzRVcfI9s8EX1VrPh6zJMbOtCoEMLgPmM", "x" },
	{ "secret B (a rotated one) signs \"x\"", "s%3Ax.4QAUL74oNdpsthiWEfkfP8AeR%2BB4FSA%2FsmCtplHc7Nc", "x" },
	{ "not URL-encoded (npm cookie decodes only when a % is there)", "s:Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.nakM7vcyJme6F/1ZVFSWfjGaLIXOBDr3UDxLnCBpzQI", "Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa" },
	{ "no s: prefix: express-session ignores it", "Hn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.nakM7vcyJme6F%2F1ZVFSWfjGaLIXOBDr3UDxLnCBpzQI", NULL },
	{ "unknown secret", "s%3AHn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.kg%2BJO3anePrhObMdO8c2pJJYw6Q2CD4FnZfrev21xpE", NULL },
	{ "last MAC character changed", "s%3AHn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.nakM7vcyJme6F%2F1ZVFSWfjGaLIXOBDr3UDxLnCBpzQA", NULL },
	{ "MAC cut short", "s%3AHn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.nakM7vcyJme6F%2F1ZVFSWfjGaLIXOBDr3UDxLnCBpzQ", NULL },
	{ "MAC with '=' padding added", "s%3AHn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.nakM7vcyJme6F%2F1ZVFSWfjGaLIXOBDr3UDxLnCBpzQI%3D", NULL },
	{ "id changed, MAC kept", "s%3AZn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa.nakM7vcyJme6F%2F1ZVFSWfjGaLIXOBDr3UDxLnCBpzQI", NULL },
	{ "no dot", "s%3AHn3xqQ5c0W8yT9w3Q2rUuG1TzYpT8kAa", NULL },
	{ "empty", "", NULL },
};
