// Command bitnet runs 1.58-bit BitNet b1.58 language models on the CPU.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bitnet: no commands yet")
	os.Exit(1)
}
