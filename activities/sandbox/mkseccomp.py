"""Writes the sandbox's seccomp filter as raw BPF, for `bwrap --seccomp FD`.

Run with Debian's interpreter (the pyenv one on PATH cannot import the bindings):
    /usr/bin/python3 activities/sandbox/mkseccomp.py OUT.bpf

The filter allows everything by default and refuses the calls that would let code attack its
own sandbox (ptrace the driver or bwrap, make new namespaces, mount, load BPF, talk to the kernel
keyring...) or reach a network (any socket family but AF_UNIX). The output is specific to the
host architecture, so it is generated on each machine instead of being committed.
"""
import errno
import os
import sys

try:
    import seccomp
except ImportError:
    sys.stderr.write("python3-seccomp is missing: apt-get install python3-seccomp\n")
    sys.exit(2)

# Calls refused with EPERM. Grouped by why they are dangerous inside the sandbox.
DENY_EPERM = [
    # debugging/inspecting other processes: ptrace on the sandbox's pid 1 (the driver) freezes the whole sandbox
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # namespaces and filesystem topology
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount",
    "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at",
    # large kernel attack surface with no use for a grading job
    "bpf", "userfaultfd", "perf_event_open", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "fanotify_init", "personality",
    "quotactl", "acct", "lookup_dcookie", "syslog", "vhangup", "swapon", "swapoff", "reboot",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    # NUMA policy and clocks: host-wide effects
    "mbind", "set_mempolicy", "migrate_pages", "move_pages", "clock_settime",
    "settimeofday", "adjtimex", "clock_adjtime",
]

# clone() flags that create namespaces (bwrap --disable-userns already covers NEWUSER; this is
# the second layer, and it also blocks the others).
CLONE_NEW_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
AF_UNIX = 1


def build():
    filt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENY_EPERM:
        try:
            filt.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError):
            # a name unknown to this libseccomp/kernel pair: nothing to block
            sys.stderr.write("mkseccomp: skipping unknown syscall %s\n" % name)
    filt.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.NE, AF_UNIX))
    for bit in CLONE_NEW_FLAGS.values():
        filt.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, bit, bit))
    # clone3 passes its flags in a struct that BPF cannot read, so make it look unimplemented:
    # glibc then falls back to clone(), whose flags the rules above do inspect.
    filt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    return filt


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: mkseccomp.py OUT.bpf\n")
        return 2
    out = argv[1]
    tmp = "%s.tmp%d" % (out, os.getpid())
    # write then rename, so a concurrent reader never sees a half-written filter
    with open(tmp, "wb") as fh:
        build().export_bpf(fh)
    os.rename(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
