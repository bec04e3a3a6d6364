/*
 * resp.c: the response, built whole in one buffer so that the binary
 * writes it with one call (one FastCGI record stream, one write(2) in
 * CGI mode).  Every response, error or not, carries
 *	Content-Type: application/json	(but a 204 preflight answer)
 *	Cache-Control: no-store		tokens are single-use credentials
 *	X-Content-Type-Options: nosniff
 * and errors have the body {"error": code, "message": sentence}.
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* See lbauth.h. */
struct lbauth_resp *
lbauth_resp_new(void)
{
	struct lbauth_resp	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	lbx_buf_init(&r->out);
	lbx_buf_init(&r->token);
	lbx_buf_init(&r->payload);
	return r;
}

/* See lbauth.h.  The buffers are wiped: they held a token. */
void
lbauth_resp_free(struct lbauth_resp *r)
{

	if (r == NULL)
		return;
	lbx_buf_clear(&r->out);
	lbx_buf_clear(&r->token);
	lbx_buf_clear(&r->payload);
	free(r);
}

/* See lbauth.h. */
const char *
lbauth_resp_data(const struct lbauth_resp *r, size_t *len_r)
{

	*len_r = r->out.len;
	return r->out.p;
}

/* See lbauth.h. */
int
lbauth_resp_status(const struct lbauth_resp *r)
{

	return r->status;
}

/* Empties r for the next request, keeping its storage. */
void
lbx_resp_reset(struct lbauth_resp *r)
{

	lbx_buf_reset(&r->out);
	lbx_buf_reset(&r->token);
	lbx_buf_reset(&r->payload);
	r->status = 0;
}

/*
 * Starts a response with status: the CGI Status line (RFC 3875 section
 * 6.3.3) and the headers every response has.
 */
void
lbx_resp_begin(struct lbauth_resp *r, int status, const char *ctype)
{

	lbx_buf_reset(&r->out);
	r->status = status;
	lbx_buf_printf(&r->out, "Status: %d %s\r\n", status,
	    lbx_err_status_text(status));
	if (ctype != NULL) {
		lbx_buf_puts(&r->out, "Content-Type: ");
		lbx_buf_puts(&r->out, ctype);
		lbx_buf_puts(&r->out, "\r\n");
	}
	lbx_buf_puts(&r->out, "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n");
}

/* Adds one header; name and value must be free of CR and LF. */
void
lbx_resp_header(struct lbauth_resp *r, const char *name, const char *value)
{

	lbx_buf_puts(&r->out, name);
	lbx_buf_puts(&r->out, ": ");
	lbx_buf_puts(&r->out, value);
	lbx_buf_puts(&r->out, "\r\n");
}

/* Ends the headers and appends the body (len bytes; none for a 204). */
void
lbx_resp_end(struct lbauth_resp *r, const char *body, size_t len)
{

	if (r->status != 204)
		lbx_buf_printf(&r->out, "Content-Length: %zu\r\n", len);
	lbx_buf_puts(&r->out, "\r\n");
	lbx_buf_put(&r->out, body, len);
}

/*
 * Appends the JSON error body for err, with message as its "message"
 * (NULL: err's default sentence).  message must hold no secret.
 */
void
lbx_resp_error_body(struct lbx_buf *b, enum lbauth_err err,
    const char *message)
{

	if (message == NULL)
		message = lbauth_strerror(err);
	lbx_buf_puts(b, "{\"error\":\"");
	lbx_buf_puts(b, lbauth_err_code(err));
	lbx_buf_puts(b, "\",\"message\":");
	lbx_jsonw_str(b, message, strlen(message));
	lbx_buf_putc(b, '}');
}

/* The fixed 500 bodies, the one place they are written. */
static const char fixed_oom[] = "Status: 500 Internal Server Error\r\n"
    "Content-Type: application/json\r\nCache-Control: no-store\r\n"
    "Retry-After: 1\r\n\r\n"
    "{\"error\":\"internal_error\",\"message\":\"Out of memory; try "
    "again later.\"}";
static const char fixed_conf[] = "Status: 500 Internal Server Error\r\n"
    "Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n"
    "{\"error\":\"misconfigured\",\"message\":\"The endpoint's "
    "configuration is invalid; see its error log.\"}";

/* See lbauth.h. */
const char *
lbauth_resp_fixed_500(enum lbauth_err err, size_t *len_r)
{

	if (err == LBAUTH_ENOMEM) {
		*len_r = sizeof(fixed_oom) - 1;
		return fixed_oom;
	}
	*len_r = sizeof(fixed_conf) - 1;
	return fixed_conf;
}

/*
 * Replaces r's contents with the fixed 500 for err, in the storage r
 * already has (no allocation); r is left empty when that is too small,
 * and the caller then writes lbauth_resp_fixed_500() itself.
 */
void
lbx_resp_fixed_500(struct lbauth_resp *r, enum lbauth_err err)
{
	const char	*p;
	size_t		 len;

	p = lbauth_resp_fixed_500(err, &len);
	r->out.len = 0;
	r->out.oom = 0;
	r->status = 500;
	if (r->out.cap > len) {
		memcpy(r->out.p, p, len + 1);
		r->out.len = len;
	}
}
