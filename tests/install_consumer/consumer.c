/* A program built against an installed simrec. */
#include <stdio.h>

#include <simrec.h>

int main(void)
{
	simrec_t *rec;
	int rc = simrec_open(&rec, "memory:", NULL);
	if (!rc)
		rc = simrec_attr_set_uint(rec, "", "n", 42);
	if (!rc)
		rc = simrec_close(rec);
	printf("consumer: %s\n", rc ? simrec_err_name(rc) : "ok");
	return rc ? 1 : 0;
}
