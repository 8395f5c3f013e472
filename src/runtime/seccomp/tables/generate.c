/* Prints "arch name number" for each syscall name read from stdin that libseccomp knows
 * on x86_64, x86, x32, aarch64 and arm, then every number 0..1023 libseccomp can name on
 * each (for names only other architectures' headers carry). Used by generate.sh; not part
 * of the build. */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  static const struct { const char *name; uint32_t token; } arches[] = {
    {"x86_64", SCMP_ARCH_X86_64}, {"x86", SCMP_ARCH_X86}, {"x32", SCMP_ARCH_X32},
    {"aarch64", SCMP_ARCH_AARCH64}, {"arm", SCMP_ARCH_ARM},
  };
  char line[256];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '\0') continue;
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
      int nr = seccomp_syscall_resolve_name_arch(arches[i].token, line);
      if (nr >= 0) printf("%s %s %d\n", arches[i].name, line, nr);
    }
  }
  for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
    int base = arches[i].token == SCMP_ARCH_X32 ? 0x40000000 : 0;
    for (int nr = base; nr < base + 1024; nr++) {
      char *name = seccomp_syscall_resolve_num_arch(arches[i].token, nr);
      if (name != NULL) printf("%s %s %d\n", arches[i].name, name, nr);
      free(name);
    }
  }
  return 0;
}
