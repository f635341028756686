//go:build !amd64 || purego

package kernels

// simdLevel names the kernels dispatched on this CPU: the portable Go
// kernels only, on this architecture or with the purego build tag.
func simdLevel() string { return "generic" }

// simdLevels lists the levels this CPU runs: the portable kernels.
func simdLevels() []string { return []string{"generic"} }

// setSIMDLevel has nothing to choose: there is one level.
func setSIMDLevel(string) {}

// registerSIMD has no faster kernels to register.
func registerSIMD() {}
