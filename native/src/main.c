/* Placeholder until the helper lands: the runtime issue replaces this file. */
#include <stdio.h>
int main(void) { fputs("berth-helper: not built yet\n", stderr); return 1; }
