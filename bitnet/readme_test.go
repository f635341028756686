package bitnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// README.md's section on this package shows Example_bitLinear158 verbatim,
// so the code users read is the code go test runs and checks.
func TestReadmeShowsTestedExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	const fn = "func Example_bitLinear158() {\n"
	i := strings.Index(string(src), fn)
	if i < 0 {
		t.Fatal("example_test.go has no Example_bitLinear158")
	}
	example := string(src[i:])
	example = example[:strings.Index(example, "\n}\n")+3]

	const heading = "## The `bitnet` layer library\n"
	section, ok := strings.CutPrefix(string(readme)[max(strings.Index(string(readme), heading), 0):], heading)
	if !ok {
		t.Fatalf("README.md has no %q section", strings.TrimSpace(heading))
	}
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	_, block, ok := strings.Cut(section, "```go\n")
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		t.Fatal("README.md's bitnet section has no go code block")
	}
	if block != example {
		t.Fatalf("README.md's example is not Example_bitLinear158 as in example_test.go:\n--- README\n%s--- example_test.go\n%s", block, example)
	}
}
