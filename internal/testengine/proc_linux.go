package testengine

import (
	"errors"
	"syscall"
)

// sysProcAttr starts the service in a session (and process group) of its
// own, as setsid does, so it can be signalled as a group, and asks the
// kernel to kill it if the test binary dies before StopShared or a
// cleanup runs (a timeout, a panic): Pdeathsig fires when the starting
// thread ends, which for a Go test binary is when it exits.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid; a group that no
// longer exists is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
