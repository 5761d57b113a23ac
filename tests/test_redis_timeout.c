/* A redis server that accepts connections and never answers: the call
 * fails after the URI's timeout, and the message says so ("timed out
 * after 0.3 s"), not "Resource temporarily unavailable". The listening
 * socket's backlog accepts the connection; nothing ever replies. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(listen(s, 8) == 0);
	socklen_t len = sizeof a;
	CHECK(getsockname(s, (struct sockaddr *)&a, &len) == 0);
	char uri[128];
	snprintf(uri, sizeof uri, "redis://127.0.0.1:%d?timeout=0.3",
	         ntohs(a.sin_port));
	/* the failure's text goes to stderr at open: capture it */
	int p[2];
	CHECK(pipe(p) == 0);
	int saved = dup(2);
	dup2(p[1], 2);
	simrec_options_t o;
	simrec_options_init(&o);
	simrec_t *rec = NULL;
	int rc = simrec_open(&rec, uri, &o);
	if (!rc) {
		size_t one = 1;
		float v = 1;
		rc = simrec_record(rec, "x", SIMREC_FLOAT32, 1, &one, &v);
		if (!rc)
			rc = simrec_flush(rec);
		fprintf(stderr, "%s\n", simrec_errmsg(rec));
	} else {
		fprintf(stderr, "%s\n", simrec_errmsg(NULL));
	}
	fflush(stderr);
	dup2(saved, 2);
	close(p[1]);
	char msg[4096];
	ssize_t n = read(p[0], msg, sizeof msg - 1);
	msg[n > 0 ? n : 0] = 0;
	simrec_close(rec);
	printf("status %s; message: %s\n", simrec_err_name(rc), msg);
	CHECK(rc != 0);
	CHECK(strstr(msg, "timed out after 0.3 s") != NULL);
	close(s);
	printf("redis timeout: ok\n");
	return 0;
}
