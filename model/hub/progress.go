package hub

import (
	"fmt"
	"io"
	"time"
)

// progressInterval is the least time between two redraws of a progress bar.
const progressInterval = 200 * time.Millisecond

// nameWidth and barWidth size the progress line to fit 80 columns.
const (
	nameWidth = 24
	barWidth  = 12
)

// progress draws a one-line bar that fits 80 columns,
//
//	model.gguf                42% [=====       ]  512.0 MiB/1.1 GiB    35.1 MiB/s
//
// redrawn in place with a carriage return. A nil *progress draws nothing, so
// callers need not check.
type progress struct {
	w     io.Writer
	name  string
	total int64
	done  int64

	start     time.Time
	startDone int64 // bytes already there when this attempt began
	lastDraw  time.Time
	drawn     bool
}

func newProgress(w io.Writer, name string, total int64) *progress {
	if w == nil {
		return nil
	}
	if r := []rune(name); len(r) > nameWidth {
		name = "…" + string(r[len(r)-nameWidth+1:])
	}
	return &progress{w: w, name: name, total: total}
}

// set starts an attempt at n bytes already done.
func (p *progress) set(n int64) {
	if p == nil {
		return
	}
	p.done, p.startDone, p.start = n, n, time.Now()
	p.draw(true)
}

func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.done += n
	p.draw(false)
}

// finish draws the final state and ends the line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.draw(true)
	fmt.Fprintln(p.w)
	p.drawn = false
}

// abort ends the line of an interrupted attempt, so messages that follow
// start on a line of their own.
func (p *progress) abort() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprintln(p.w)
	p.drawn = false
}

func (p *progress) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(p.lastDraw) < progressInterval {
		return
	}
	p.lastDraw = now
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.done) / float64(p.total)
	}
	fill := int(pct / 100 * barWidth)
	bar := make([]byte, barWidth)
	for i := range bar {
		if i < fill {
			bar[i] = '='
		} else {
			bar[i] = ' '
		}
	}
	rate := ""
	if el := now.Sub(p.start).Seconds(); el > 0.5 {
		rate = formatSize(int64(float64(p.done-p.startDone)/el)) + "/s"
	}
	fmt.Fprintf(p.w, "\r%-*s %3.0f%% [%s] %10s/%-10s %12s", nameWidth, p.name, pct, bar, formatSize(p.done), formatSize(p.total), rate)
	p.drawn = true
}

// formatSize writes a byte count with a binary unit: "512 B", "1.5 KiB",
// "1.1 GiB".
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
