/*
 * trivial-cgi.c: the CGI floor of the benchmark: a C program that prints
 * a fixed JSON answer, started the same way as lbauth in CGI mode.
 */
#include <stdio.h>

int
main(void)
{

	fputs("Status: 200 OK\r\nContent-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n\r\n{\"token\":\"x\"}", stdout);
	return 0;
}
