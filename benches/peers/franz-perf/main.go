// franz-perf: franz-go (pkg/kgo) with the command line and output of kprod's examples/perf.rs, so
// scripts/bench-compare can run it the same way.
//
//	franz-perf --bootstrap-server HOST:PORT [--topic T] [--num-records N] [--record-size B]
//	    [--payload-file F] [--acks 0|1|all] [--compression none|gzip|snappy|lz4|zstd] [--linger-ms MS]
//	    [--batch-size B] [--throughput RECS_PER_SEC] [--key-pattern none|seq|random]
//	    [--producer-props k=v ...] [--open-loop]
//
// --producer-props takes Java producer property names and maps them to kgo options (see applyProp).
// Unless overridden the client buffers up to Java's 32 MiB (MaxBufferedBytes) with no record-count cap,
// and allows 5 produce requests in flight per broker. Latency runs from Produce to the promise (the
// record's Timestamp is set by Produce, so no per-record closure is needed). At the end it prints the
// summary line of kafka-producer-perf-test and "client cpu: U s user, S s sys, C s per million records"
// for the produce phase (getrusage), as kprod's perf example does.
//
// --open-loop (with --throughput R): record i is due at start + i/R; the sending goroutine, locked to
// its OS thread with a 1 ns timer slack, sleeps until then with nanosleep(2) (time.Sleep wakes up to
// 1 ms late on Linux) and produces, and latency runs from the intended time to the promise (kept in a
// per-record closure: the record's Timestamp is truncated to milliseconds by Produce). All records are
// sampled; after the summary line, "latency us: p50 N p99 N p999 N max N" over the records due 2 s or
// more after the start, as kprod's perf example prints.
package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	reportingInterval = 5 * time.Second
	openLoopWarmup    = 2 * time.Second
	maxSamples        = 500000
	mb                = 1024.0 * 1024.0
)

type prop struct{ k, v string }

type args struct {
	bootstrap   string
	topic       string
	numRecords  uint64
	recordSize  int
	payloadFile string
	throughput  float64
	keyPattern  string
	props       []prop
	openLoop    bool
}

func usage() string {
	return "usage: franz-perf --bootstrap-server HOST:PORT [--topic T] [--num-records N] [--record-size B] " +
		"[--payload-file F] [--acks 0|1|all] [--compression none|gzip|snappy|lz4|zstd] [--linger-ms MS] " +
		"[--batch-size B] [--throughput RECS_PER_SEC] [--key-pattern none|seq|random] [--producer-props k=v ...] " +
		"[--open-loop]"
}

func parseArgs(argv []string) (*args, error) {
	a := &args{topic: "perf-test", numRecords: 1000000, recordSize: 100, throughput: -1, keyPattern: "none"}
	var flagProps, extraProps []prop
	for i := 0; i < len(argv); i++ {
		flag := argv[i]
		if flag == "-h" || flag == "--help" {
			return nil, nil
		}
		if flag == "--producer-props" {
			for i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "--") {
				i++
				k, v, ok := strings.Cut(argv[i], "=")
				if !ok {
					return nil, fmt.Errorf("--producer-props: not k=v: %q", argv[i])
				}
				extraProps = append(extraProps, prop{strings.TrimSpace(k), strings.TrimSpace(v)})
			}
			continue
		}
		if flag == "--open-loop" {
			a.openLoop = true
			continue
		}
		if i+1 >= len(argv) {
			return nil, fmt.Errorf("%s needs a value", flag)
		}
		i++
		v := argv[i]
		var err error
		switch flag {
		case "--bootstrap-server", "--bootstrap-servers":
			a.bootstrap = v
		case "--topic":
			a.topic = v
		case "--num-records":
			a.numRecords, err = strconv.ParseUint(v, 10, 64)
		case "--record-size":
			a.recordSize, err = strconv.Atoi(v)
		case "--payload-file":
			a.payloadFile = v
		case "--acks":
			flagProps = append(flagProps, prop{"acks", v})
		case "--compression":
			flagProps = append(flagProps, prop{"compression.type", v})
		case "--linger-ms":
			flagProps = append(flagProps, prop{"linger.ms", v})
		case "--batch-size":
			flagProps = append(flagProps, prop{"batch.size", v})
		case "--throughput":
			a.throughput, err = strconv.ParseFloat(v, 64)
		case "--key-pattern":
			if v != "none" && v != "seq" && v != "random" {
				return nil, fmt.Errorf("--key-pattern: expected none, seq or random, not %q", v)
			}
			a.keyPattern = v
		case "--threads":
			if v != "1" {
				return nil, fmt.Errorf("--threads: only 1 is supported")
			}
		case "--partitions": // topics are created by the caller
		default:
			return nil, fmt.Errorf("unknown argument %q", flag)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not a valid number: %q", flag, v)
		}
	}
	a.props = append(flagProps, extraProps...)
	if a.throughput == 0 {
		return nil, fmt.Errorf("--throughput must be positive, or negative for no limit")
	}
	if a.openLoop && a.throughput <= 0 {
		return nil, fmt.Errorf("--open-loop needs --throughput RECS_PER_SEC")
	}
	return a, nil
}

// settings collects the kgo options derived from Java-named properties.
type settings struct {
	acks         kgo.Acks
	idempotent   bool
	linger       time.Duration
	batchBytes   int32
	codec        string
	level        int
	hasLevel     bool
	bufferBytes  int
	inflight     int
	maxReqBytes  int32
	deliveryTO   time.Duration
	requestTO    time.Duration
	transactions string
}

func applyProp(s *settings, k, v string) error {
	num := func() (int64, error) { return strconv.ParseInt(v, 10, 64) }
	switch k {
	case "bootstrap.servers":
	case "acks":
		switch v {
		case "all", "-1":
			s.acks = kgo.AllISRAcks()
		case "1":
			s.acks = kgo.LeaderAck()
		case "0":
			s.acks = kgo.NoAck()
		default:
			return fmt.Errorf("acks: %q", v)
		}
	case "enable.idempotence":
		s.idempotent = v == "true"
	case "linger.ms":
		n, err := num()
		if err != nil {
			return err
		}
		s.linger = time.Duration(n) * time.Millisecond
	case "batch.size":
		n, err := num()
		if err != nil {
			return err
		}
		s.batchBytes = int32(n)
	case "compression.type":
		s.codec = v
	case "compression.zstd.level", "compression.lz4.level", "compression.gzip.level":
		n, err := num()
		if err != nil {
			return err
		}
		s.level, s.hasLevel = int(n), true
	case "buffer.memory":
		n, err := num()
		if err != nil {
			return err
		}
		s.bufferBytes = int(n)
	case "max.in.flight.requests.per.connection":
		n, err := num()
		if err != nil {
			return err
		}
		s.inflight = int(n)
	case "max.request.size":
		n, err := num()
		if err != nil {
			return err
		}
		s.maxReqBytes = int32(n)
	case "delivery.timeout.ms":
		n, err := num()
		if err != nil {
			return err
		}
		s.deliveryTO = time.Duration(n) * time.Millisecond
	case "request.timeout.ms":
		n, err := num()
		if err != nil {
			return err
		}
		s.requestTO = time.Duration(n) * time.Millisecond
	case "transactional.id":
		s.transactions = v
	default:
		fmt.Fprintf(os.Stderr, "franz-perf: ignoring %s=%s (not mapped to a kgo option)\n", k, v)
	}
	return nil
}

func (s *settings) options(bootstrap, topic string) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(bootstrap, ",")...),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(s.acks),
		kgo.ProducerLinger(s.linger),
		kgo.MaxBufferedRecords(math.MaxInt32),
		kgo.MaxBufferedBytes(s.bufferBytes),
		// Topics are created by the caller; this is for brokers that create them on a metadata request
		// (kprod's mock), as the other clients' metadata requests allow.
		kgo.AllowAutoTopicCreation(),
	}
	if !s.idempotent {
		// With idempotence kgo allows 5 in flight from Kafka 1.0 on and refuses this option.
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(s.inflight))
	}
	if s.batchBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(s.batchBytes))
	}
	if s.maxReqBytes > 0 {
		opts = append(opts, kgo.BrokerMaxWriteBytes(s.maxReqBytes))
	}
	if s.deliveryTO > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(s.deliveryTO))
	}
	if s.requestTO > 0 {
		opts = append(opts, kgo.ProduceRequestTimeout(s.requestTO))
	}
	if s.transactions != "" {
		opts = append(opts, kgo.TransactionalID(s.transactions))
	}
	var codec kgo.CompressionCodec
	switch s.codec {
	case "", "none":
		codec = kgo.NoCompression()
	case "gzip":
		codec = kgo.GzipCompression()
	case "snappy":
		codec = kgo.SnappyCompression()
	case "lz4":
		codec = kgo.Lz4Compression()
	case "zstd":
		codec = kgo.ZstdCompression()
	default:
		return nil, fmt.Errorf("compression.type: %q", s.codec)
	}
	if s.hasLevel {
		level := s.level
		if s.codec == "zstd" {
			// kgo takes klauspost's encoder level (1 fastest .. 4 best); map zstd's numeric level to it.
			level = int(zstd.EncoderLevelFromZstd(level))
		}
		codec = codec.WithLevel(level)
	}
	opts = append(opts, kgo.ProducerBatchCompression(codec))
	return opts, nil
}

type xorshift uint64

func newXorshift(seed uint64) xorshift {
	z := seed + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return xorshift((z ^ (z >> 31)) | 1)
}

func (x *xorshift) next() uint64 {
	v := uint64(*x)
	v ^= v << 13
	v ^= v >> 7
	v ^= v << 17
	*x = xorshift(v)
	return v
}

func (x *xorshift) below(n int) int {
	hi, _ := mul64(x.next(), uint64(n))
	return int(hi)
}

func mul64(a, b uint64) (uint64, uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t&mask32 + a0*b1
	return a1*b1 + t>>32 + w1>>32, a * b
}

func (x *xorshift) fillLetters(buf []byte) {
	for i := 0; i < len(buf); i += 8 {
		r := x.next()
		for j := i; j < i+8 && j < len(buf); j++ {
			buf[j] = 'A' + byte(((r&0xFF)*26)>>8)
			r >>= 8
		}
	}
}

type stats struct {
	mu                               sync.Mutex
	sampling                         uint64
	latencies                        []int64
	count, bytes, iter               uint64
	totalLatUs, maxLatUs             int64
	windowStart                      time.Time
	windowCount, windowBytes         uint64
	windowTotalLatUs, windowMaxLatUs int64
	lastCompletion                   time.Time
	failed                           uint64
	openLoop                         []int64 // --open-loop: every latency (µs) after the warm-up
}

func newStats(n uint64, start time.Time, openLoop bool) *stats {
	if openLoop {
		return &stats{sampling: 1, latencies: make([]int64, 0, n+1), windowStart: start,
			openLoop: make([]int64, 0, n)}
	}
	lim := n
	if lim < 1 {
		lim = 1
	}
	if lim > maxSamples {
		lim = maxSamples
	}
	sampling := n / lim
	if sampling < 1 {
		sampling = 1
	}
	return &stats{sampling: sampling, latencies: make([]int64, 0, n/sampling+1), windowStart: start}
}

func (s *stats) record(latUs int64, bytes uint64, now time.Time) {
	s.count++
	s.bytes += bytes
	s.totalLatUs += latUs
	if latUs > s.maxLatUs {
		s.maxLatUs = latUs
	}
	s.windowCount++
	s.windowBytes += bytes
	s.windowTotalLatUs += latUs
	if latUs > s.windowMaxLatUs {
		s.windowMaxLatUs = latUs
	}
	if s.iter%s.sampling == 0 {
		s.latencies = append(s.latencies, latUs)
	}
	s.iter++
	s.lastCompletion = now
	if now.Sub(s.windowStart) >= reportingInterval {
		el := now.Sub(s.windowStart).Seconds()
		wc := s.windowCount
		if wc == 0 {
			wc = 1
		}
		fmt.Printf("%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
			s.windowCount, float64(s.windowCount)/el, float64(s.windowBytes)/el/mb,
			float64(s.windowTotalLatUs)/float64(wc)/1000, float64(s.windowMaxLatUs)/1000)
		s.windowStart = now
		s.windowCount, s.windowBytes, s.windowTotalLatUs, s.windowMaxLatUs = 0, 0, 0, 0
	}
}

func (s *stats) printTotal(elapsed time.Duration) {
	secs := math.Max(elapsed.Seconds(), 1e-9)
	c := s.count
	if c == 0 {
		c = 1
	}
	sort.Slice(s.latencies, func(i, j int) bool { return s.latencies[i] < s.latencies[j] })
	pct := func(p float64) int64 {
		n := len(s.latencies)
		if n == 0 {
			return 0
		}
		i := int(p * float64(n))
		if i > n-1 {
			i = n - 1
		}
		return s.latencies[i] / 1000
	}
	fmt.Printf("%d records sent, %.6f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "+
		"%d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		s.count, float64(s.count)/secs, float64(s.bytes)/secs/mb, float64(s.totalLatUs)/float64(c)/1000,
		float64(s.maxLatUs/1000), pct(0.5), pct(0.95), pct(0.99), pct(0.999))
}

func (s *stats) printOpenLoop() {
	sort.Slice(s.openLoop, func(i, j int) bool { return s.openLoop[i] < s.openLoop[j] })
	n := len(s.openLoop)
	pct := func(p float64) int64 {
		if n == 0 {
			return 0
		}
		return s.openLoop[min(int(p*float64(n)), n-1)]
	}
	var mx int64
	if n > 0 {
		mx = s.openLoop[n-1]
	}
	fmt.Printf("latency us: p50 %d p99 %d p999 %d max %d\n", pct(0.5), pct(0.99), pct(0.999), mx)
}

// tightenTimerSlack sets the calling OS thread's timer slack to 1 ns (default 50 µs); best effort.
func tightenTimerSlack() {
	const prSetTimerslack = 29
	_, _, _ = syscall.Syscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
}

// sleepUntil blocks the OS thread in nanosleep(2) until t (if still ahead).
func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		ts := syscall.NsecToTimespec(int64(d))
		for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
		}
	}
}

func cpuTimes() (float64, float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime), tv(ru.Stime)
}

func main() {
	a, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n%s\n", err, usage())
		os.Exit(2)
	}
	if a == nil {
		fmt.Println(usage())
		return
	}
	if a.bootstrap == "" {
		fmt.Fprintln(os.Stderr, "franz-perf: --bootstrap-server is required (no embedded broker here)")
		os.Exit(2)
	}
	os.Exit(run(a))
}

func run(a *args) int {
	var payloads [][]byte
	if a.payloadFile != "" {
		text, err := os.ReadFile(a.payloadFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "franz-perf: %v\n", err)
			return 1
		}
		for _, l := range bytes.Split(text, []byte("\n")) {
			if len(l) > 0 {
				payloads = append(payloads, l)
			}
		}
		if len(payloads) == 0 {
			fmt.Fprintf(os.Stderr, "franz-perf: %s: no payloads\n", a.payloadFile)
			return 1
		}
		fmt.Printf("Reading payloads from: %s\nNumber of messages read: %d\n", a.payloadFile, len(payloads))
	}
	// Java's defaults (acks=all, idempotence on), then the given properties.
	s := &settings{acks: kgo.AllISRAcks(), idempotent: true, bufferBytes: 32 << 20, inflight: 5}
	for _, p := range a.props {
		if err := applyProp(s, p.k, p.v); err != nil {
			fmt.Fprintf(os.Stderr, "franz-perf: %v\n", err)
			return 2
		}
	}
	opts, err := s.options(a.bootstrap, a.topic)
	if err != nil {
		fmt.Fprintf(os.Stderr, "franz-perf: %v\n", err)
		return 2
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "franz-perf: %v\n", err)
		return 1
	}
	defer cl.Close()

	u0, s0 := cpuTimes()
	start := time.Now()
	st := newStats(a.numRecords, start, a.openLoop)
	var wg sync.WaitGroup
	promise := func(r *kgo.Record, err error) {
		now := time.Now()
		st.mu.Lock()
		if err != nil {
			st.failed++
			if st.failed <= 10 {
				fmt.Fprintf(os.Stderr, "delivery failed: %v\n", err)
			}
		} else {
			st.record(now.Sub(r.Timestamp).Microseconds(), uint64(len(r.Value)), now)
		}
		st.mu.Unlock()
		wg.Done()
	}
	if a.openLoop {
		runtime.LockOSThread()
		tightenTimerSlack()
	}
	// Open loop: latency from the record's intended send time, after the warm-up also kept in openLoop.
	openPromise := func(due time.Time, measured bool) func(*kgo.Record, error) {
		return func(r *kgo.Record, err error) {
			now := time.Now()
			st.mu.Lock()
			if err != nil {
				st.failed++
				if st.failed <= 10 {
					fmt.Fprintf(os.Stderr, "delivery failed: %v\n", err)
				}
			} else {
				lat := max(now.Sub(due).Microseconds(), 0)
				st.record(lat, uint64(len(r.Value)), now)
				if measured {
					st.openLoop = append(st.openLoop, lat)
				}
			}
			st.mu.Unlock()
			wg.Done()
		}
	}
	rng := newXorshift(uint64(time.Now().UnixNano()))
	ctx := context.Background()
	for i := uint64(0); i < a.numRecords; i++ {
		var value []byte
		if payloads != nil {
			value = payloads[rng.below(len(payloads))]
		} else {
			// kgo keeps the slice until the record is delivered: a fresh one per record.
			value = make([]byte, a.recordSize)
			rng.fillLetters(value)
		}
		r := &kgo.Record{Value: value}
		switch a.keyPattern {
		case "seq":
			r.Key = strconv.AppendUint(nil, i, 10)
		case "random":
			k := make([]byte, 8)
			v := rng.next()
			for j := range k {
				k[j] = byte(v >> (8 * j))
			}
			r.Key = k
		}
		wg.Add(1)
		if a.openLoop {
			offset := time.Duration(float64(i) / a.throughput * float64(time.Second))
			due := start.Add(offset)
			sleepUntil(due)
			cl.Produce(ctx, r, openPromise(due, offset >= openLoopWarmup))
			continue
		}
		cl.Produce(ctx, r, promise)
		if a.throughput > 0 {
			due := time.Duration(float64(i+1) / a.throughput * float64(time.Second))
			if ahead := due - time.Since(start); ahead >= 2*time.Millisecond {
				time.Sleep(ahead)
			}
		}
	}
	if err := cl.Flush(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "flush: %v\n", err)
	}
	wg.Wait()
	u1, s1 := cpuTimes()

	st.mu.Lock()
	end := st.lastCompletion
	if end.IsZero() {
		end = time.Now()
	}
	st.printTotal(end.Sub(start))
	if a.openLoop {
		st.printOpenLoop()
	}
	sent, failed := st.count, st.failed
	st.mu.Unlock()
	user, sys := u1-u0, s1-s0
	perMillion := 0.0
	if sent > 0 {
		perMillion = (user + sys) * 1e6 / float64(sent)
	}
	fmt.Printf("client cpu: %.2f s user, %.2f s sys, %.2f s per million records\n", user, sys, perMillion)
	if failed > 0 || sent+failed < a.numRecords {
		missing := a.numRecords - sent - failed
		fmt.Printf("%d records failed", failed)
		if missing > 0 {
			fmt.Printf(", %d unaccounted for", missing)
		}
		fmt.Println()
		return 1
	}
	return 0
}
