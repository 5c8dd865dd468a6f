// A pacing observer: N simulated Asterisk calls that send nothing after their UUID and time
// every frame the server sends them by the kernel's receive timestamp (SO_TIMESTAMPNS), not by
// when a busy userspace loop got round to reading it. On loopback the kernel stamps a segment
// while the server's send() runs, so these gaps are the server's pacing itself, free of the
// observer's own scheduling; the userspace gaps are printed beside them for comparison.
//
// Built and run by bench/pacing.mjs; prints one JSON object.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The stamp bench frames carry in their first three samples (src/cli/bench/stamp.ts).
const stampMarker = 0x5a5a

type call struct {
	kernelGaps []float32
	userGaps   []float32
	frames     int
	stamped    int
	skipped    int
	unstamped  int
	failed     bool
}

func main() {
	target := flag.String("target", "127.0.0.1:9092", "server address")
	calls := flag.Int("calls", 1000, "simulated calls")
	duration := flag.Duration("duration", 20*time.Second, "steady-state time measured, once every call is up")
	ramp := flag.Duration("ramp", 5*time.Second, "time over which calls are opened")
	flag.Parse()

	var measuring, finished atomic.Bool
	var wg sync.WaitGroup
	results := make([]*call, *calls)
	conns := make([]net.Conn, *calls)
	for i := range results {
		results[i] = &call{}
		conn, err := open(*target)
		if err != nil {
			results[i].failed = true
		} else {
			conns[i] = conn
			wg.Add(1)
			go func(c *call, conn net.Conn) {
				defer wg.Done()
				observe(conn, c, &measuring)
				// A call the server ended before the observer hung up failed.
				c.failed = !finished.Load()
			}(results[i], conn)
		}
		time.Sleep(*ramp / time.Duration(*calls))
	}
	// One second to settle after the last call is up, then the measured window.
	time.Sleep(time.Second)
	measuring.Store(true)
	time.Sleep(*duration)
	measuring.Store(false)
	finished.Store(true)
	for _, conn := range conns {
		if conn != nil {
			conn.Write([]byte{0, 0, 0})
			conn.Close()
		}
	}
	wg.Wait()
	report(results, *duration)
}

// open connects one call and sends its UUID.
func open(target string) (net.Conn, error) {
	conn, err := net.Dial("tcp", target)
	if err != nil {
		return nil, err
	}
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		return nil, err
	}
	var sockErr error
	raw.Control(func(fd uintptr) {
		sockErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
	if sockErr != nil {
		conn.Close()
		return nil, sockErr
	}
	id := make([]byte, 19)
	id[0], id[1], id[2] = 0x01, 0x00, 0x10
	rand.Read(id[3:])
	if _, err := conn.Write(id); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// observe reads one call's frames: each header by recvmsg with its kernel timestamp (a frame is
// one segment, so the header's timestamp is the frame's), then the payload.
func observe(conn net.Conn, c *call, measuring *atomic.Bool) {
	raw, _ := conn.(*net.TCPConn).SyscallConn()
	header := make([]byte, 3)
	payload := make([]byte, 65535)
	oob := make([]byte, 64)
	var lastKernel, lastUser float64
	lastSeq := -1
	for {
		kernel, err := readHeader(raw, header, oob)
		user := float64(time.Now().UnixNano()) / 1e6
		if err != nil {
			return
		}
		size := int(binary.BigEndian.Uint16(header[1:]))
		if _, err := io.ReadFull(conn, payload[:size]); err != nil {
			return
		}
		if header[0] == 0x00 {
			return
		}
		if !measuring.Load() {
			lastKernel, lastUser = 0, 0
			continue
		}
		c.frames++
		if lastKernel > 0 {
			c.kernelGaps = append(c.kernelGaps, float32(kernel-lastKernel))
			c.userGaps = append(c.userGaps, float32(user-lastUser))
		}
		lastKernel, lastUser = kernel, user
		seq := stamp(payload[:size])
		if seq < 0 {
			c.unstamped++
			continue
		}
		c.stamped++
		if lastSeq >= 0 && seq > lastSeq+1 {
			c.skipped += seq - lastSeq - 1
		}
		lastSeq = seq
	}
}

// readHeader reads exactly the 3 header bytes and returns the kernel receive time in ms.
func readHeader(raw syscall.RawConn, header, oob []byte) (float64, error) {
	got := 0
	stampMs := math.NaN()
	for got < len(header) {
		var n, oobn int
		var err error
		readErr := raw.Read(func(fd uintptr) bool {
			n, oobn, _, _, err = syscall.Recvmsg(int(fd), header[got:], oob, 0)
			return !errors.Is(err, syscall.EAGAIN)
		})
		if readErr != nil {
			return 0, readErr
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		if got == 0 {
			stampMs = timestamp(oob[:oobn])
		}
		got += n
	}
	if math.IsNaN(stampMs) {
		return 0, errors.New("no SCM_TIMESTAMPNS on a read")
	}
	return stampMs, nil
}

func timestamp(oob []byte) float64 {
	messages, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return math.NaN()
	}
	for _, m := range messages {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
			return float64(ts.Sec)*1e3 + float64(ts.Nsec)/1e6
		}
	}
	return math.NaN()
}

// stamp is readStamp of src/cli/bench/stamp.ts: the frame's sequence number, or -1.
func stamp(payload []byte) int {
	if len(payload) < 6 || binary.LittleEndian.Uint16(payload) != stampMarker {
		return -1
	}
	low := int(binary.LittleEndian.Uint16(payload[2:]))
	high := int(binary.LittleEndian.Uint16(payload[4:]))
	return low | high<<15
}

type percentiles struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

func summarise(values []float32) percentiles {
	if len(values) == 0 {
		return percentiles{}
	}
	sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
	at := func(q float64) float64 {
		return math.Round(float64(values[int(q*float64(len(values)-1))])*100) / 100
	}
	return percentiles{P50: at(0.5), P99: at(0.99), P999: at(0.999), Max: at(1)}
}

func report(results []*call, duration time.Duration) {
	var kernel, user []float32
	out := struct {
		Calls          int         `json:"calls"`
		Failed         int         `json:"failed"`
		DurationS      float64     `json:"durationS"`
		Frames         int         `json:"frames"`
		Stamped        int         `json:"stamped"`
		Skipped        int         `json:"skipped"`
		Unstamped      int         `json:"unstamped"`
		KernelGapMs    percentiles `json:"kernelGapMs"`
		UserspaceGapMs percentiles `json:"userspaceGapMs"`
		// The kernel gaps of each quarter of the calls in the order they connected, which is
		// the order a server that serves its calls one after the other in a tick sends in:
		// a p99 that grows from quarter to quarter is jitter that accumulates along the burst.
		KernelGapMsByQuarter []percentiles `json:"kernelGapMsByQuarter"`
	}{Calls: len(results), DurationS: duration.Seconds()}
	quarters := make([][]float32, 4)
	for i, c := range results {
		if c.failed {
			out.Failed++
			continue
		}
		quarter := i * 4 / len(results)
		quarters[quarter] = append(quarters[quarter], c.kernelGaps...)
		out.Frames += c.frames
		out.Stamped += c.stamped
		out.Skipped += c.skipped
		out.Unstamped += c.unstamped
		kernel = append(kernel, c.kernelGaps...)
		user = append(user, c.userGaps...)
	}
	out.KernelGapMs = summarise(kernel)
	out.UserspaceGapMs = summarise(user)
	for _, gaps := range quarters {
		out.KernelGapMsByQuarter = append(out.KernelGapMsByQuarter, summarise(gaps))
	}
	encoded, err := json.Marshal(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, string(encoded))
}
