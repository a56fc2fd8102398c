package admin

import (
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD: the calling thread's usage alone.
const rusageThread = 1

// threadCPU is the CPU time the calling OS thread has used, user and
// system; the benchmark locks its goroutine to the thread, so the
// difference around a request is what rendering it cost, whatever else the
// machine runs.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
