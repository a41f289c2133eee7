package emulators

import "syscall"

// Each emulator gets its own process group (so Stop reaches its children,
// e.g. the JVM) and is killed by the kernel if this process dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
