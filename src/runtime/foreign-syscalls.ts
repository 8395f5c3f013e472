// Syscall names that exist only on architectures berth's seccomp tables do not cover
// (s390, powerpc, mips, riscv, sparc...). Profiles such as Docker's list them; they are
// real names, skipped on this host, never "unknown".
export const FOREIGN_SYSCALL_NAMES: ReadonlySet<string> = new Set([
  'recv', 'send', 'sync_file_range2', 'swapcontext', 'sys_debug_setcontext', 'spu_run', 'spu_create', 'subpage_prot',
  'pciconfig_iobase', 'pciconfig_read', 'pciconfig_write', 'multiplexer', 'rtas', 'kern_features', 'utrap_install',
  'cacheflush', 'sysmips', 'set_thread_area', 'get_thread_area', 'riscv_flush_icache', 'riscv_hwprobe',
  's390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr', 's390_guarded_storage', 's390_sthyi',
  'sys_kexec_load', 'oldolduname', 'olduname', 'oldstat', 'oldlstat', 'oldfstat', 'socketcall', 'ipc', 'vm86', 'vm86old',
  'arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'set_tls', 'usr26', 'usr32', 'atomic_barrier', 'atomic_cmpxchg_32',
  'getpagesize', 'memory_ordering', 'perfctr', 'sched_get_affinity', 'sched_set_affinity', 'setaltroot', 'osf_getsysinfo',
  'osf_setsysinfo', 'getxpid', 'getxuid', 'getxgid', 'cachestat', 'or1k_atomic', 'metag_get_tls', 'metag_set_tls',
]);
