package model

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// availableMemory returns the memory a new allocation can use, or false when
// the operating system does not say. It is a variable so that tests can
// simulate a small machine.
var availableMemory = procMemAvailable

// procMemAvailable reads MemAvailable (or, on kernels before 3.14, MemTotal)
// from Linux's /proc/meminfo. Elsewhere, or when the file cannot be read,
// it reports nothing and only the fixed bound maxSessionBytes applies.
func procMemAvailable() (uint64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	return parseMeminfo(b)
}

// parseMeminfo returns MemAvailable, else MemTotal, in bytes from the text
// of /proc/meminfo ("MemAvailable:   123456 kB" lines).
func parseMeminfo(b []byte) (uint64, bool) {
	var total, avail uint64
	var haveTotal, haveAvail bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil || v > 1<<53 {
			continue
		}
		if len(f) >= 3 && string(f[2]) == "kB" {
			v *= 1024
		}
		switch string(f[0]) {
		case "MemTotal:":
			total, haveTotal = v, true
		case "MemAvailable:":
			avail, haveAvail = v, true
		}
	}
	switch {
	case haveAvail:
		return avail, true
	case haveTotal:
		return total, true
	}
	return 0, false
}
