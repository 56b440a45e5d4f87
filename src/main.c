/* brock: command-line entry point. Parses global options, dispatches to a
 * command, and maps an error class to the exit code (SPEC section 1). */
#include <stdio.h>
#include <string.h>

#ifndef BROCK_VERSION
#define BROCK_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("brock %s\n", BROCK_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: brock [global options] COMMAND [ARGS]\n");
	return 2;
}
