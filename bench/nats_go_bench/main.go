// nats_go_bench — the reference of bench/nats_bench.sh: the official Go client (nats.go, built
// from Debian's golang-github-nats-io-go-nats-dev sources) doing what bench/nats_bench.cc does
// with otlp-cpp's client, against the same nats-server in the same script run.
//
//   nats_go_bench <mode> <url> <messages> <size>
//   modes: pub        publish N messages of SIZE bytes, flush
//          pubhdr     the same, each with a traceparent header (a new one per message)
//          pubsubhdr  publish with a traceparent header; a subscriber on another connection reads
//                     it from every message; until the last one arrived
//          reqrep     N sequential requests to a responder on another connection
//          jspub      JetStream asynchronous publish of N messages to a file stream, all acked
// Prints one line: "<mode> seconds=<s> msgs_per_sec=<r> [p50_us=<x> p99_us=<y>] rss_kb=<k>".
package main

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats_go_bench:", err)
		os.Exit(1)
	}
}

func traceparent(r *rand.Rand) string {
	return fmt.Sprintf("00-%016x%016x-%016x-01", r.Uint64(), r.Uint64(), r.Uint64())
}

func rssKB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return 0
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: nats_go_bench <mode> <url> <messages> <size>")
		os.Exit(2)
	}
	mode, url := os.Args[1], os.Args[2]
	n, _ := strconv.Atoi(os.Args[3])
	size, _ := strconv.Atoi(os.Args[4])
	body := make([]byte, size)
	r := rand.New(rand.NewSource(1))
	nc, err := nats.Connect(url)
	must(err)
	defer nc.Close()
	extra := ""
	start := time.Now()
	switch mode {
	case "pub":
		for i := 0; i < n; i++ {
			must(nc.Publish("bench.go", body))
		}
		must(nc.Flush())
	case "pubhdr":
		for i := 0; i < n; i++ {
			m := nats.NewMsg("bench.go")
			m.Data = body
			m.Header.Set("traceparent", traceparent(r))
			must(nc.PublishMsg(m))
		}
		must(nc.Flush())
	case "pubsubhdr":
		sc, err := nats.Connect(url)
		must(err)
		defer sc.Close()
		done := make(chan struct{})
		got := 0
		seen := 0
		sub, err := sc.Subscribe("bench.go.ps", func(m *nats.Msg) {
			if len(m.Header.Get("traceparent")) == 55 {
				seen++
			}
			got++
			if got == n {
				close(done)
			}
		})
		must(err)
		must(sub.SetPendingLimits(-1, -1))
		must(sc.Flush())
		start = time.Now()
		for i := 0; i < n; i++ {
			m := nats.NewMsg("bench.go.ps")
			m.Data = body
			m.Header.Set("traceparent", traceparent(r))
			must(nc.PublishMsg(m))
		}
		must(nc.Flush())
		select {
		case <-done:
		case <-time.After(120 * time.Second):
			must(fmt.Errorf("only %d of %d messages arrived", got, n))
		}
		if seen != n {
			must(fmt.Errorf("%d of %d messages had the header", seen, n))
		}
	case "reqrep":
		sc, err := nats.Connect(url)
		must(err)
		defer sc.Close()
		_, err = sc.Subscribe("bench.go.rr", func(m *nats.Msg) { m.Respond(m.Data) })
		must(err)
		must(sc.Flush())
		lat := make([]time.Duration, 0, n)
		start = time.Now()
		for i := 0; i < n; i++ {
			t0 := time.Now()
			_, err := nc.Request("bench.go.rr", body, 5*time.Second)
			must(err)
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
		extra = fmt.Sprintf(" p50_us=%.1f p99_us=%.1f", float64(lat[len(lat)/2].Nanoseconds())/1e3,
			float64(lat[len(lat)*99/100].Nanoseconds())/1e3)
	case "jspub":
		js, err := nc.JetStream(nats.PublishAsyncMaxPending(4096))
		must(err)
		_ = js.DeleteStream("BENCHGO")
		_, err = js.AddStream(&nats.StreamConfig{Name: "BENCHGO", Subjects: []string{"bench.go.js"},
			Storage: nats.FileStorage})
		must(err)
		start = time.Now()
		for i := 0; i < n; i++ {
			_, err := js.PublishAsync("bench.go.js", body)
			must(err)
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(120 * time.Second):
			must(fmt.Errorf("acks did not all arrive"))
		}
		_ = js.DeleteStream("BENCHGO")
	default:
		must(fmt.Errorf("unknown mode %q", mode))
	}
	seconds := time.Since(start).Seconds()
	fmt.Printf("%s seconds=%.4f msgs_per_sec=%.0f%s rss_kb=%d\n", mode, seconds, float64(n)/seconds,
		extra, rssKB())
}
