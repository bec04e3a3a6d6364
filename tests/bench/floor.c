/*
 * floor.c: the floor of the benchmark (make bench): a trivial libfcgi
 * responder that answers every request with a fixed 200 JSON body of a
 * token's size, doing no work.  Behind the same nginx with the same
 * number of processes, it measures what nginx and FastCGI cost alone;
 * lbauth's figures are read as ratios to it.
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

int
main(void)
{
	static char	 body[512];
	FCGX_Request	 rq;
	char		 head[256];
	int		 n;

	memset(body, 'x', sizeof(body));
	memcpy(body, "{\"token\":\"", 10);
	memcpy(body + sizeof(body) - 2, "\"}", 2);
	body[110] = body[400] = '.';	/* the shape of a JWS */
	n = snprintf(head, sizeof(head), "Status: 200 OK\r\nContent-Type: "
	    "application/json\r\nCache-Control: no-store\r\nContent-Length: "
	    "%zu\r\n\r\n", sizeof(body));
	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&rq) >= 0) {
		FCGX_PutStr(head, n, rq.out);
		FCGX_PutStr(body, sizeof(body), rq.out);
		FCGX_Finish_r(&rq);
	}
	return 0;
}
