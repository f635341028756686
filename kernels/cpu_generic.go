//go:build !amd64 || purego

package kernels

// simdLevel names the kernels dispatched on this CPU: the portable Go
// kernels only, on this architecture or with the purego build tag.
func simdLevel() string { return "generic" }
