package cli

import (
	"os"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// progress draws one bar per transfer on standard error, or nothing when
// bars are off.
type progress struct {
	container *mpb.Progress
}

// newProgress starts the bars when the settings and the terminal allow.
func (a *app) newProgress() *progress {
	on := a.settings.Progress == "always" || (a.settings.Progress == "auto" && a.streams.Terminal())
	if !on {
		return &progress{}
	}
	return &progress{container: mpb.New(mpb.WithOutput(a.streams.Err), mpb.WithAutoRefresh())}
}

// bar adds a bar for a transfer of total bytes and returns the function
// that sets its current value, and the one that ends it.
func (p *progress) bar(name string, total int64) (update func(int64), done func(ok bool)) {
	if p.container == nil {
		return func(int64) {}, func(bool) {}
	}
	b := p.container.AddBar(total,
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.AverageSpeed(decor.SizeB1024(0), " % .1f")),
	)
	return func(n int64) { b.SetCurrent(n) }, func(ok bool) {
		if ok {
			b.SetTotal(-1, true)
			return
		}
		b.Abort(false)
	}
}

// wait lets the bars draw their final state.
func (p *progress) wait() {
	if p.container != nil {
		p.container.Wait()
	}
}
