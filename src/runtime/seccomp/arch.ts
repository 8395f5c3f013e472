// Seccomp architectures: the OCI/libseccomp names, the AUDIT_ARCH token the kernel puts in
// seccomp_data.arch, and the syscall table of each.
import { invalidArgument } from '../../errors/berth-error.js';
import { AARCH64_SYSCALLS } from './tables/aarch64.js';
import { ARM_SYSCALLS } from './tables/arm.js';
import { X32_SYSCALLS } from './tables/x32.js';
import { X86_SYSCALLS } from './tables/x86.js';
import { X86_64_SYSCALLS } from './tables/x86_64.js';

export type SupportedArch = 'SCMP_ARCH_X86_64' | 'SCMP_ARCH_X86' | 'SCMP_ARCH_X32' | 'SCMP_ARCH_AARCH64' | 'SCMP_ARCH_ARM';

export interface ArchInfo {
  name: SupportedArch;
  /** AUDIT_ARCH_* as in seccomp_data.arch */
  audit: number;
  /** 32-bit arches pass 32-bit arguments: only the low word is compared (as libseccomp) */
  bits: 32 | 64;
  syscalls: Readonly<Record<string, number>>;
}

/** x32 runs under AUDIT_ARCH_X86_64 and sets this bit in the syscall number. */
export const X32_SYSCALL_BIT = 0x40000000;

export const ARCHES: Readonly<Record<SupportedArch, ArchInfo>> = {
  SCMP_ARCH_X86_64: { name: 'SCMP_ARCH_X86_64', audit: 0xc000003e, bits: 64, syscalls: X86_64_SYSCALLS },
  SCMP_ARCH_X86: { name: 'SCMP_ARCH_X86', audit: 0x40000003, bits: 32, syscalls: X86_SYSCALLS },
  SCMP_ARCH_X32: { name: 'SCMP_ARCH_X32', audit: 0xc000003e, bits: 32, syscalls: X32_SYSCALLS },
  SCMP_ARCH_AARCH64: { name: 'SCMP_ARCH_AARCH64', audit: 0xc00000b7, bits: 64, syscalls: AARCH64_SYSCALLS },
  SCMP_ARCH_ARM: { name: 'SCMP_ARCH_ARM', audit: 0x40000028, bits: 32, syscalls: ARM_SYSCALLS },
};

/**
 * Architectures libseccomp knows but berth has no table for. A filter for an x86_64 or
 * arm64 host never sees their syscalls, so they are left out with a warning rather than
 * refused (what runc would do on such a host is add a section that can never match).
 */
export const FOREIGN_ARCHES: ReadonlySet<string> = new Set([
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

/**
 * Syscalls that exist only on architectures without a table here; profiles such as
 * Docker's default name them, and they are skipped without a warning.
 */
export const FOREIGN_SYSCALLS: ReadonlySet<string> = new Set([
  'riscv_flush_icache', 'riscv_hwprobe', 's390_pci_mmio_read', 's390_pci_mmio_write',
  's390_runtime_instr', 's390_guarded_storage', 's390_sthyi', 'swapcontext', 'sync_file_range2', 'spu_run',
  'spu_create', 'subpage_prot', 'sys_debug_setcontext', 'sysmips',
]);

export function isSupportedArch(name: string): name is SupportedArch {
  return Object.hasOwn(ARCHES, name);
}

/** The seccomp architecture of the machine Node runs on. */
export function hostArch(nodeArch: string = process.arch): SupportedArch {
  switch (nodeArch) {
    case 'x64': return 'SCMP_ARCH_X86_64';
    case 'ia32': return 'SCMP_ARCH_X86';
    case 'arm64': return 'SCMP_ARCH_AARCH64';
    case 'arm': return 'SCMP_ARCH_ARM';
    default:
      throw invalidArgument('UNSUPPORTED_ARCH', `seccomp is not supported on architecture '${nodeArch}'`, {
        hint: 'berth has syscall tables for x86_64, x86, x32, aarch64 and arm',
      });
  }
}

/** The tables as Maps: name lookups sit on the container start path. */
const LOOKUP: ReadonlyMap<SupportedArch, ReadonlyMap<string, number>> = new Map(
  Object.values(ARCHES).map((a) => [a.name, new Map(Object.entries(a.syscalls))]),
);

/** The number of `name` on `arch`, or undefined when the arch has no such syscall. */
export function syscallNumber(arch: SupportedArch, name: string): number | undefined {
  return LOOKUP.get(arch)?.get(name);
}

const KNOWN_NAMES: ReadonlySet<string> = new Set([...Object.values(ARCHES).flatMap((a) => Object.keys(a.syscalls)), ...FOREIGN_SYSCALLS]);

/** A real syscall name on some architecture (with a table here, or a foreign one). */
export function isKnownSyscallName(name: string): boolean {
  return KNOWN_NAMES.has(name);
}
